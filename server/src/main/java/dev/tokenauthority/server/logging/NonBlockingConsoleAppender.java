package dev.tokenauthority.server.logging;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * logback's {@link AsyncAppender} that never blocks the thread that logs (a Netty event loop, a
 * call's thread): when the console stalls (a full pipe, a hung log shipper) and the bounded queue
 * is full, lines are dropped and counted, never waited for. Once lines flow again it says so in
 * one line, "dropped N log lines while the console was stalled"; {@link #dropped()} is the total,
 * published as a metric.
 *
 * <p>Configure with {@code neverBlock=true} and {@code discardingThreshold=0} (drop only when
 * full, whatever the level); the constructor sets both.
 */
public final class NonBlockingConsoleAppender extends AsyncAppender {
  private static final LongAdder DROPPED = new LongAdder();
  private final AtomicLong droppedUnreported = new AtomicLong();

  public NonBlockingConsoleAppender() {
    setNeverBlock(true);
    setDiscardingThreshold(0);
  }

  /** Lines dropped since the process started, by every instance. */
  public static long dropped() {
    return DROPPED.sum();
  }

  @Override
  protected void append(ILoggingEvent event) {
    // Checked before the offer, so a line is counted as dropped only when the queue was full;
    // a line lost to a race between the check and the offer goes uncounted, never the reverse.
    if (getRemainingCapacity() == 0) {
      DROPPED.increment();
      droppedUnreported.incrementAndGet();
      return;
    }
    long unreported = droppedUnreported.getAndSet(0);
    if (unreported > 0) {
      super.append(stallReport(unreported));
    }
    super.append(event);
  }

  private ILoggingEvent stallReport(long lines) {
    LoggerContext context = (LoggerContext) getContext();
    return new LoggingEvent(
        NonBlockingConsoleAppender.class.getName(),
        context.getLogger(NonBlockingConsoleAppender.class),
        Level.WARN,
        "dropped {} log lines while the console was stalled",
        null,
        new Object[] {lines});
  }
}
