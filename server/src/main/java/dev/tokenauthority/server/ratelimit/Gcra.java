package dev.tokenauthority.server.ratelimit;

import java.time.Duration;

/**
 * The generic cell rate algorithm (GCRA, the leaky bucket as a meter): a bucket is one number,
 * its theoretical arrival time (TAT). A limit of {@code n} calls per {@code period} admits a
 * call when {@code max(TAT, now) + period/n - now <= period}, and moves TAT to that sum; so a
 * full allowance is a burst of {@code n}, refilled evenly over the period. All times are
 * microseconds.
 */
public final class Gcra {
  private Gcra() {}

  /** The spacing of calls in a limit of {@code limit} per {@code periodMicros}. */
  public static long intervalMicros(int limit, long periodMicros) {
    return Math.max(1, periodMicros / limit);
  }

  /**
   * A limit of {@code n} calls per period in whole microseconds: the spacing of calls, and the
   * period that spacing makes, a burst of exactly {@code n} calls (7,768 per minute would
   * otherwise admit 7,769, and anything past 60 million per minute far fewer).
   */
  public record Limit(long intervalMicros, long periodMicros) {
    /** {@code limit} calls per {@code period}. */
    public static Limit of(int limit, Duration period) {
      long interval = Gcra.intervalMicros(limit, period.toNanos() / 1000);
      return new Limit(interval, interval * limit);
    }
  }

  /** The bucket's TAT after admitting a call now, or -1 when the call is refused. */
  public static long admit(long tat, long intervalMicros, long periodMicros, long nowMicros) {
    long next = Math.max(tat, nowMicros) + intervalMicros;
    return next - nowMicros <= periodMicros ? next : -1;
  }
}
