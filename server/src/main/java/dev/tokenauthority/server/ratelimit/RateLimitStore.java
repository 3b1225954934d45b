package dev.tokenauthority.server.ratelimit;

import java.util.List;
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

  /**
   * The bucket's TAT as it stands, changing nothing: 0 when the bucket has no row (full). For
   * the headers of a call refused before it took anything.
   */
  CompletableFuture<Long> peekRateLimited(String bucket);

  /**
   * Gives back one call of {@code intervalMicros} that {@link #admitRateLimited} admitted: the
   * bucket's TAT moves back by the interval (GCRA's admissions add up, so this undoes one
   * whatever was admitted since). Committed as admissions are.
   */
  CompletableFuture<Void> refundRateLimited(String bucket, long intervalMicros);

  /**
   * Deletes up to {@code limit} buckets named after {@code afterBucket} (in name order; "" for
   * the first batch) whose TAT is before {@code nowMicros}: they are full again, as if absent.
   * A batch at a time, so that no delete holds locks (or runs into PostgreSQL's statement
   * timeout) however many buckets a busy hour left; the name cursor makes the batches one pass
   * over the table, not a scan each. A bucket an admission holds or has just moved is left.
   *
   * @return the deleted buckets' names, in name order
   */
  List<String> purgeRateLimits(long nowMicros, String afterBucket, int limit);
}
