package dev.tokenauthority.server.netty;

import java.time.Duration;

/**
 * When a lingering close ({@link LingeringClose}, and the HTTP port's twin) may really close:
 * once the client has closed its side; or once everything written is with the kernel and the
 * client has sent nothing for {@link #QUIET} (a close with nothing unread is a FIN, and the
 * kernel still delivers what is queued); or after {@link #MAX} whatever the client does. One
 * per closing connection, used on its event loop only.
 */
public final class Linger {
  /** How long the client must have been silent, after the server's FIN, for the close to be safe. */
  public static final Duration QUIET = Duration.ofMillis(500);
  /** The longest a close waits: for a client that does not read, or never stops sending. */
  public static final Duration MAX = Duration.ofSeconds(3);

  private final long startedNanos;
  private long lastHeardNanos;
  private boolean finSent;

  /** A close asked for at {@code nowNanos}. */
  public Linger(long nowNanos) {
    startedNanos = nowNanos;
    lastHeardNanos = nowNanos;
  }

  /** The client sent something (dropped: the connection is closing). */
  public void heard(long nowNanos) {
    lastHeardNanos = nowNanos;
  }

  /** Everything written went to the kernel, and the FIN after it: the quiet is counted from now. */
  public void finSent(long nowNanos) {
    finSent = true;
    lastHeardNanos = Math.max(lastHeardNanos, nowNanos);
  }

  /** How long to wait before asking again; 0 or less: close now. */
  public long nanosToWait(long nowNanos) {
    long max = startedNanos + MAX.toNanos() - nowNanos;
    if (max <= 0 || !finSent) {
      return max;
    }
    return Math.min(max, lastHeardNanos + QUIET.toNanos() - nowNanos);
  }
}
