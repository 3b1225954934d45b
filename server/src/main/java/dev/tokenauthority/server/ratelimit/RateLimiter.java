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
      long seconds = retryAfter.getSeconds() + (retryAfter.getNano() > 0 ? 1 : 0);
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
    long interval = Gcra.intervalMicros(limit, period.toNanos() / 1000);
    // The period the whole-microsecond interval makes: a burst of exactly limit calls (7,768
    // per minute would otherwise admit 7,769, and anything past 60 million per minute far fewer).
    long periodMicros = interval * limit;
    long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    return buckets.admitRateLimited(stored(bucket, limit), interval, periodMicros, nowMicros)
        .thenApply(result -> decision(result, limit, interval, periodMicros, nowMicros));
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
    return buckets.refundRateLimited(stored(bucket, limit), Gcra.intervalMicros(limit, period.toNanos() / 1000))
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
    long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
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

  private static Instant micros(long micros) {
    return Instant.ofEpochSecond(micros / 1_000_000L, (micros % 1_000_000L) * 1000);
  }
}
