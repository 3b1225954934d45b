package dev.tokenauthority.server.ratelimit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** Rate-limit buckets in this process's memory: for a single process, exact and free. */
public final class MemoryRateLimitStore implements RateLimitStore {
  /** How much older than the last one a call's clock reading may be without being taken for a step back. */
  static final long CLOCK_STEP_TOLERANCE_MICROS = 30_000_000L;
  private final ConcurrentHashMap<String, Long> tats = new ConcurrentHashMap<>();
  /** The purge under way (one runs at a time, on the maintenance thread); null between purges. */
  private volatile Purge purge;

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
  public CompletableFuture<Long> peekRateLimited(String bucket) {
    return CompletableFuture.completedFuture(tats.getOrDefault(bucket, 0L));
  }

  @Override
  public CompletableFuture<Void> refundRateLimited(String bucket, long intervalMicros) {
    tats.computeIfPresent(bucket, (k, tat) -> tat - intervalMicros);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public List<String> purgeRateLimits(long nowMicros, String afterBucket, int limit) {
    // The full buckets are found and sorted once per purge (the first batch), not once per batch:
    // a purge of n buckets costs n log n, not n for each of its n / limit batches.
    Purge run = purge;
    if (afterBucket.isEmpty() || run == null || run.nowMicros() != nowMicros) {
      run = new Purge(nowMicros, tats.entrySet().stream()
          .filter(b -> b.getValue() < nowMicros)
          .map(b -> Map.entry(b.getKey(), b.getValue()))
          .sorted(Map.Entry.comparingByKey())
          .toList());
      purge = run;
    }
    List<Map.Entry<String, Long>> full = run.full();
    int from = Collections.binarySearch(full, Map.entry(afterBucket, 0L), Map.Entry.comparingByKey());
    from = from >= 0 ? from + 1 : -from - 1;
    List<String> removed = new ArrayList<>();
    int i = from;
    for (; i < full.size() && removed.size() < limit; i++) {
      // Only as it was seen: a bucket admitted meanwhile stays.
      if (tats.remove(full.get(i).getKey(), full.get(i).getValue())) {
        removed.add(full.get(i).getKey());
      }
    }
    if (i >= full.size()) {
      purge = null; // done: the list is not kept until the next purge
    }
    return removed;
  }

  /** The full buckets of a purge under way, in name order, as its first batch found them. */
  private record Purge(long nowMicros, List<Map.Entry<String, Long>> full) {}
}
