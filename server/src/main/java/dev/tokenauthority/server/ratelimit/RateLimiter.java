package dev.tokenauthority.server.ratelimit;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Admits or refuses calls against per-bucket limits (GCRA). A single process keeps its buckets
 * in memory; replicas share theirs in the store, so a limit holds across them.
 */
public final class RateLimiter {
  private final RateLimitStore buckets;

  /**
   * What a call learned: whether it was admitted, and the bucket as the x-ratelimit-* headers
   * show it. It travels as it is from the limiter to the transport, which formats it.
   */
  public record Decision(boolean allowed, long limit, long remaining, Instant reset, Duration retryAfter) {
    /** For a call no limit applies to. */
    public static Decision unlimited(Instant now) {
      return new Decision(true, Integer.MAX_VALUE, Integer.MAX_VALUE, now, Duration.ZERO);
    }

    /** When the allowance is whole again, in Unix seconds, rounded up: {@code x-ratelimit-reset}. */
    public long resetEpochSeconds() {
      return reset.getNano() == 0 ? reset.getEpochSecond() : reset.getEpochSecond() + 1;
    }

    /**
     * How long a refused caller waits, in whole seconds rounded up and never 0, so that a client
     * that waits this long is admitted: {@code retry-after}.
     */
    public long retryAfterSeconds() {
      return retryAfterSeconds(retryAfter);
    }

    /** {@code wait} as a {@code retry-after} value: whole seconds, rounded up, never 0. */
    public static long retryAfterSeconds(Duration wait) {
      long seconds = wait.getSeconds() + (wait.getNano() > 0 ? 1 : 0);
      return Math.max(1, seconds);
    }
  }

  /** A limiter on these buckets: {@link MemoryRateLimitStore} for one process, the shared store for replicas. */
  public RateLimiter(RateLimitStore buckets) {
    this.buckets = buckets;
  }

  /**
   * Takes one call from {@code bucket}'s allowance of {@code limit} per {@code period}; the
   * future completes once the bucket is updated (at once for in-memory buckets).
   */
  public CompletableFuture<Decision> take(String bucket, int limit, Duration period, Instant now) {
    Gcra.Limit l = Gcra.Limit.of(limit, period);
    long nowMicros = epochMicros(now);
    return buckets.admitRateLimited(stored(bucket, limit), l.intervalMicros(), l.periodMicros(), nowMicros)
        .thenApply(result -> decision(result, limit, l.intervalMicros(), l.periodMicros(), nowMicros));
  }

  /**
   * The allowance {@code bucket} has left now, taking nothing: for the headers of a call refused
   * before it reached the limiter (an invalid request, say). Reported as admitted: a call that
   * took nothing has no retry-after.
   */
  public CompletableFuture<Decision> peek(String bucket, int limit, Duration period, Instant now) {
    Gcra.Limit l = Gcra.Limit.of(limit, period);
    long nowMicros = epochMicros(now);
    return buckets.peekRateLimited(stored(bucket, limit))
        .thenApply(tat -> decision(Math.max(tat, nowMicros), limit, l.intervalMicros(), l.periodMicros(), nowMicros));
  }

  /**
   * The stored bucket of a limit: a limit that changes starts a new, full bucket, so raising a
   * tenant's limit takes effect at once (a bucket filled at 1 a minute would count as 600 calls
   * used at 600 a minute), and lowering it gives at most one allowance of the new limit at once.
   */
  private static String stored(String bucket, int limit) {
    return bucket + "@" + limit;
  }

  /**
   * Gives back a call {@link #take} admitted from {@code bucket} (a mint refused by another limit
   * after this one admitted it): best effort, a failure only leaves the call counted.
   */
  public CompletableFuture<Void> giveBack(String bucket, int limit, Duration period) {
    return buckets.refundRateLimited(stored(bucket, limit), Gcra.Limit.of(limit, period).intervalMicros())
        .exceptionally(failure -> null);
  }

  private static Decision decision(long result, int limit, long interval, long periodMicros, long nowMicros) {
    if (result > 0) {
      long remaining = Math.max(0, (periodMicros - (result - nowMicros)) / interval);
      return new Decision(true, limit, remaining, micros(result), Duration.ZERO);
    }
    long tat = Math.max(-result, nowMicros);
    Duration retry = Duration.ofNanos((tat + interval - nowMicros - periodMicros) * 1000);
    return new Decision(false, limit, 0, micros(tat), retry.isNegative() ? Duration.ZERO : retry);
  }

  /**
   * Forgets buckets that are full again, {@code batch} at a time, until none is left or the
   * thread is interrupted (a stop); returns how many.
   */
  public int purge(Instant now, int batch) {
    long nowMicros = epochMicros(now);
    int total = 0;
    String after = "";
    while (!Thread.currentThread().isInterrupted()) {
      List<String> deleted = buckets.purgeRateLimits(nowMicros, after, batch);
      total += deleted.size();
      if (deleted.size() < batch) {
        break; // the end, or buckets left for the next run (held by an admission, or just admitted)
      }
      after = deleted.get(deleted.size() - 1);
    }
    return total;
  }

  private static long epochMicros(Instant instant) {
    return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1000;
  }

  private static Instant micros(long micros) {
    return Instant.ofEpochSecond(micros / 1_000_000L, (micros % 1_000_000L) * 1000);
  }
}
