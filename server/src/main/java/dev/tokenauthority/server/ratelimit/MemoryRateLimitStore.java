package dev.tokenauthority.server.ratelimit;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** Rate-limit buckets in this process's memory: for a single process, exact and free. */
public final class MemoryRateLimitStore implements RateLimitStore {
  /** How much older than the last one a call's clock reading may be without being taken for a step back. */
  static final long CLOCK_STEP_TOLERANCE_MICROS = 30_000_000L;
  private final ConcurrentHashMap<String, Long> tats = new ConcurrentHashMap<>();

  @Override
  public CompletableFuture<Long> admitRateLimited(String bucket, long intervalMicros, long periodMicros, long nowMicros) {
    long[] result = new long[1];
    tats.compute(bucket, (k, tat) -> {
      // A TAT far more than a period ahead only comes from the clock stepping back: count the
      // bucket as just used up, so that the step costs at most one period, not its own length.
      // (A call whose clock reading is a little older than the last one's, as concurrent calls'
      // are, is within the tolerance and changes nothing when refused: the limit stays exact.)
      long current = tat == null ? 0 : tat;
      if (current - nowMicros > periodMicros + CLOCK_STEP_TOLERANCE_MICROS) {
        current = nowMicros + periodMicros;
      }
      long next = Gcra.admit(current, intervalMicros, periodMicros, nowMicros);
      result[0] = next < 0 ? -current : next;
      return next < 0 ? (tat == null || current == tat ? tat : Long.valueOf(current)) : Long.valueOf(next);
    });
    return CompletableFuture.completedFuture(result[0]);
  }

  @Override
  public CompletableFuture<Void> refundRateLimited(String bucket, long intervalMicros) {
    tats.computeIfPresent(bucket, (k, tat) -> tat - intervalMicros);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public int purgeRateLimits(long nowMicros, int limit) {
    int removed = 0;
    for (var it = tats.entrySet().iterator(); it.hasNext() && removed < limit; ) {
      var bucket = it.next();
      if (bucket.getValue() < nowMicros && tats.remove(bucket.getKey(), bucket.getValue())) {
        removed++;
      }
    }
    return removed;
  }
}
