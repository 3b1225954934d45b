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
  public java.util.List<String> purgeRateLimits(long nowMicros, String afterBucket, int limit) {
    java.util.List<java.util.Map.Entry<String, Long>> full = tats.entrySet().stream()
        .filter(b -> b.getKey().compareTo(afterBucket) > 0 && b.getValue() < nowMicros)
        .sorted(java.util.Map.Entry.comparingByKey())
        .limit(limit)
        .map(b -> java.util.Map.entry(b.getKey(), b.getValue()))
        .toList();
    java.util.List<String> removed = new java.util.ArrayList<>();
    for (var bucket : full) {
      // Only as it was seen: a bucket admitted meanwhile stays.
      if (tats.remove(bucket.getKey(), bucket.getValue())) {
        removed.add(bucket.getKey());
      }
    }
    return removed;
  }
}
