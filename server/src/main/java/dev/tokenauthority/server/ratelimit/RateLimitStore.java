package dev.tokenauthority.server.ratelimit;

import java.util.concurrent.CompletableFuture;

/**
 * Rate-limit buckets kept where every replica sees them (PostgreSQL), so that a limit holds
 * across replicas exactly: each admission is one atomic read-modify-write of the bucket row.
 */
public interface RateLimitStore {
  /**
   * Applies {@link Gcra#admit} to the bucket atomically.
   *
   * @return once committed: the bucket's TAT after this call when admitted, or its unchanged TAT negated (at
   *     most 0) when refused
   */
  CompletableFuture<Long> admitRateLimited(
      String bucket, long intervalMicros, long periodMicros, long nowMicros);

  /** Deletes buckets whose TAT is before {@code nowMicros}: they are full again, as if absent. */
  int purgeRateLimits(long nowMicros);
}
