package dev.tokenauthority.server.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The console appender when the console stops reading: the logging thread never waits. */
class NonBlockingConsoleAppenderTest {
  private final LoggerContext context = new LoggerContext();
  private final CountDownLatch unstall = new CountDownLatch(1);
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();
  private NonBlockingConsoleAppender appender;
  private Logger logger;

  /** A console that blocks every write until {@link #unstall} opens, like a full pipe. */
  private final OutputStream stalledConsole = new OutputStream() {
    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      try {
        unstall.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (written) {
        written.write(b, off, len);
      }
    }
  };

  @BeforeEach
  void setUp() {
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.start();
    OutputStreamAppender<ILoggingEvent> console = new OutputStreamAppender<>();
    console.setContext(context);
    console.setEncoder(encoder);
    console.setOutputStream(stalledConsole);
    console.start();
    appender = new NonBlockingConsoleAppender();
    appender.setContext(context);
    appender.setQueueSize(16);
    appender.addAppender(console);
    appender.start();
    logger = context.getLogger("test");
    logger.addAppender(appender);
  }

  @AfterEach
  void tearDown() {
    unstall.countDown();
    context.stop();
  }

  @Test
  void append_consoleStalled_neverBlocksAndCountsDrops() throws Exception {
    long droppedBefore = NonBlockingConsoleAppender.dropped();
    CompletableFuture<Void> logging = CompletableFuture.runAsync(() -> {
      for (int i = 0; i < 10_000; i++) {
        logger.info("line {}", i);
      }
    });

    // A blocking appender would still be stuck on the 18th line; this one is done.
    logging.get(30, TimeUnit.SECONDS);
    assertThat(NonBlockingConsoleAppender.dropped() - droppedBefore).isGreaterThan(9_900);
    assertThat(written.size()).isZero();
  }

  @Test
  void append_afterConsoleRecovers_saysOnceHowManyLinesWereDropped() throws Exception {
    long droppedBefore = NonBlockingConsoleAppender.dropped();
    for (int i = 0; i < 1_000; i++) {
      logger.info("line {}", i);
    }
    long dropped = NonBlockingConsoleAppender.dropped() - droppedBefore;
    unstall.countDown();
    // Once the queue has room again, the next line brings the report with it.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (appender.getRemainingCapacity() < 16 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    logger.info("after");
    logger.info("after again");
    appender.stop();

    String text;
    synchronized (written) {
      text = written.toString(StandardCharsets.UTF_8);
    }
    // The worker takes queued lines out in batches, so room can open (and a report go out) while
    // the console is still stalled: there may be more than one report, but together they account
    // for every dropped line, and the lines after the stall follow the last one.
    Matcher report = Pattern.compile("dropped (\\d+) log lines while the console was stalled\n").matcher(text);
    long reported = 0;
    int lastReportEnd = -1;
    while (report.find()) {
      reported += Long.parseLong(report.group(1));
      lastReportEnd = report.end();
    }
    assertThat(dropped).isPositive();
    assertThat(reported).isEqualTo(dropped);
    assertThat(text.substring(lastReportEnd)).endsWith("after\nafter again\n");
  }
}
