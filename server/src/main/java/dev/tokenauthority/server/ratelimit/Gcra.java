package dev.tokenauthority.server.ratelimit;

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

  /** The bucket's TAT after admitting a call now, or -1 when the call is refused. */
  public static long admit(long tat, long intervalMicros, long periodMicros, long nowMicros) {
    long next = Math.max(tat, nowMicros) + intervalMicros;
    return next - nowMicros <= periodMicros ? next : -1;
  }
}
