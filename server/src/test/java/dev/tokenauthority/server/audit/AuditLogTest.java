package dev.tokenauthority.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AuditLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static AuditEvent event(String rpc, String sessionId) {
    return new AuditEvent(
        Instant.parse("2030-01-01T00:00:00.123Z"), rpc, AuditEvent.OK, "OK", null, "default", "key_1", sessionId,
        null, null, null, null, "127.0.0.1:5000", null);
  }

  /** What a sink does with each write. */
  private interface Write {
    void write(byte[] b, int off, int len);
  }

  /** An output stream whose every write, of one byte or many, is {@code write}'s. */
  private static OutputStream sink(Write write) {
    return new OutputStream() {
      @Override
      public void write(int b) {
        write.write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        write.write(b, off, len);
      }
    };
  }

  /** Records ses_first, waits until its write was refused, records ses_second, closes. */
  private static void firstRefusedThenSecond(AuditLog log) throws InterruptedException {
    log.record(event("tokenauthority.v1.TokenAuthority/MintSession", "ses_first"));
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (log.dropped() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    log.record(event("tokenauthority.v1.TokenAuthority/MintSession", "ses_second"));
    log.close();
  }

  @Test
  void aDiskThatFillsHalfWayThroughABatch_leavesNoHalfLine_theNextBatchIsWhole(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("audit.log");
    java.util.concurrent.atomic.AtomicBoolean full = new java.util.concurrent.atomic.AtomicBoolean(true);
    // A file whose disk takes the first 37 bytes of the first write, then refuses the rest.
    java.io.FileOutputStream disk = new java.io.FileOutputStream(file.toFile(), true) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (full.getAndSet(false)) {
          super.write(b, off, Math.min(len, 37));
          throw new IOException("No space left on device");
        }
        super.write(b, off, len);
      }
    };
    AuditLog log = new AuditLog(disk, true, 64);
    firstRefusedThenSecond(log);

    List<String> written = Files.readAllLines(file);
    assertThat(written).hasSize(1);
    assertThat(JSON.readTree(written.get(0)).get("session_id").asText()).isEqualTo("ses_second");
    assertThat(log.dropped()).isEqualTo(1);
  }

  @Test
  void aSinkThatKeepsPartOfARefusedBatch_andIsNoFile_getsTheFragmentEndedSoTheNextLineIsWhole() throws Exception {
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    java.util.concurrent.atomic.AtomicBoolean full = new java.util.concurrent.atomic.AtomicBoolean(true);
    OutputStream pipe = new OutputStream() {
      @Override
      public void write(int b) {
        kept.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (full.getAndSet(false)) {
          kept.write(b, off, Math.min(len, 37));
          throw new IOException("broken pipe");
        }
        kept.write(b, off, len);
      }
    };
    AuditLog log = new AuditLog(pipe, false, 64);
    firstRefusedThenSecond(log);

    String[] written = kept.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(written).hasSize(2);
    assertThat(JSON.readTree(written[1]).get("session_id").asText()).isEqualTo("ses_second");
  }

  private static List<JsonNode> lines(ByteArrayOutputStream out) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n", -1)) {
      if (!line.isEmpty()) {
        lines.add(JSON.readTree(line));
      }
    }
    return lines;
  }

  @Test
  void close_afterEvents_leavesOneJsonObjectPerLine_withCoreFieldsAlwaysPresent() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AuditLog log = new AuditLog(out, true, 16);

    log.record(event("tokenauthority.v1.TokenAuthority/MintSession", "ses_1"));
    log.record(event("tokenauthority.v1.TokenAuthority/CreateApiKey", null));
    log.close();

    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text).endsWith("\n").doesNotStartWith(" ");
    List<JsonNode> lines = lines(out);
    assertThat(lines).hasSize(2);
    JsonNode first = lines.get(0);
    assertThat(first.get("time").asText()).isEqualTo("2030-01-01T00:00:00.123Z");
    assertThat(OffsetDateTime.parse(first.get("time").asText()).toInstant()).isEqualTo("2030-01-01T00:00:00.123Z");
    assertThat(first.get("rpc").asText()).isEqualTo("tokenauthority.v1.TokenAuthority/MintSession");
    assertThat(first.get("session_id").asText()).isEqualTo("ses_1");
    JsonNode second = lines.get(1);
    assertThat(second.has("reason")).as("core fields are present, null when unknown").isTrue();
    assertThat(second.get("reason").isNull()).isTrue();
    assertThat(second.has("session_id")).as("optional fields appear only when set").isFalse();
    assertThat(log.dropped()).isZero();
  }

  @Test
  void write_lineBreakingBidiAndControlCharacters_areEscapedAndRoundTrip() throws Exception {
    // U+2028/2029 end a line for some readers; U+202E and U+2067 reorder what a terminal shows;
    // U+0085 (NEL) and U+009B (CSI) are C1 controls; U+007F is DEL.
    String hostile = "rep\u2028\u2029\u202A\u202E\u2066\u2069\u200E\u200F\u061C\u0085\u009B\u007F\u0000\u001B[2Jend";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AuditLog log = new AuditLog(out, true, 16);

    log.record(new AuditEvent(
        Instant.parse("2030-01-01T00:00:00Z"), "tokenauthority.v1.TokenAuthority/MintSession", AuditEvent.OK, "OK", null,
        "default", "key_1", "ses_1", hostile, null, null, null, "127.0.0.1:5000", hostile));
    log.close();

    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text.codePoints().filter(c -> c != '\n').filter(AuditLogTest::isUnsafe).toArray()).isEmpty();
    assertThat(text).contains("\\u2028", "\\u202E", "\\u0085", "\\u007F").endsWith("end\"}\n");
    assertThat(text.chars().filter(c -> c == '\n').count()).isEqualTo(1);
    JsonNode line = lines(out).get(0);
    assertThat(line.get("external_user_id").asText()).isEqualTo(hostile);
    assertThat(line.get("peer_certificate").asText()).isEqualTo(hostile);
  }

  private static boolean isUnsafe(int c) {
    return Character.isISOControl(c) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
  }

  @Test
  void record_whileTheWriterIsStuck_dropsAndCountsInsteadOfWaiting() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    OutputStream stuck =
        sink((b, off, len) -> {
            writing.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            sink.write(b, off, len);
        });
    AuditLog log = new AuditLog(stuck, true, 4);
    log.record(event("first", null));
    writing.await();

    // The writer is blocked on the disk: 4 events fit the queue, the other 6 are dropped.
    for (int i = 0; i < 10; i++) {
      log.record(event("more-" + i, null));
    }

    assertThat(log.dropped()).isEqualTo(6);
    release.countDown();
    log.close();
    assertThat(lines(sink)).hasSize(5);
  }

  @Test
  void stdout_sharedWithLogLines_neverSplitsAnAuditLine() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream stdout = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    AuditLog log = new AuditLog(stdout, false, 4096);
    Thread logger = new Thread(() -> {
      for (int i = 0; i < 2000; i++) {
        stdout.print("2030-01-01T00:00:00Z INFO  [main] Main - a log line " + i + "\n");
      }
    });
    logger.start();
    for (int i = 0; i < 2000; i++) {
      log.record(event("tokenauthority.v1.TokenAuthority/MintSession", "ses_" + i));
    }
    logger.join();
    log.close();

    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSize(4000 - (int) log.dropped());
    for (String line : lines) {
      if (line.startsWith("{")) {
        assertThat(JSON.readTree(line).get("rpc").asText()).endsWith("/MintSession");
      } else {
        assertThat(line).contains("a log line");
      }
    }
  }

  @Test
  void aFileOnAFullDisk_dropsAndCountsEveryLine_withOneWarning_andCountsNoneWritten() throws Exception {
    // /dev/full refuses every write with ENOSPC, as a full disk does. The lines used to sit in a
    // 64 KiB buffer, uncounted and reported as written, while each flush (every 2 ms) logged
    // another warning.
    assumeTrue(Files.exists(Path.of("/dev/full")), "needs /dev/full");
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(AuditLog.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> warnings = new ch.qos.logback.core.read.ListAppender<>();
    warnings.start();
    logger.addAppender(warnings);
    try {
      AuditLog log = AuditLog.open("/dev/full");
      for (int i = 0; i < 40; i++) {
        log.record(event("tokenauthority.v1.TokenAuthority/MintSession", "ses_" + i));
        Thread.sleep(1);
      }
      log.close();

      assertThat(log.dropped()).isEqualTo(40);
      assertThat(warnings.list).filteredOn(e -> e.getMessage().contains("failed")).hasSize(1);
      assertThat(warnings.list).filteredOn(e -> e.getFormattedMessage().contains("0 lines written, 40 dropped")).hasSize(1);
    } finally {
      logger.detachAppender(warnings);
    }
  }

  @ParameterizedTest
  @CsvSource({"4, 20", "8, 3"}) // a full queue, and one with room for the stop
  void close_whenTheSinkTakesNothing_givesUpAfterTheWait_insteadOfHoldingTheShutdown(int capacity, int events) throws Exception {
    // A pipe nobody reads: the writer blocks in its write for good, and the queue is full.
    CountDownLatch never = new CountDownLatch(1);
    OutputStream blocked =
        sink((b, off, len) -> {
          // As a write to a pipe nobody reads: an interrupt does not end it.
          while (true) {
            try {
              never.await();
              return;
            } catch (InterruptedException e) {
              // keep waiting
            }
          }
        });
    Duration wait = Duration.ofMillis(500);
    AuditLog log = new AuditLog(blocked, false, capacity, wait);
    for (int i = 0; i < events; i++) {
      log.record(event("tokenauthority.v1.TokenAuthority/MintSession", "ses_" + i));
      Thread.sleep(3);
    }

    long start = System.nanoTime();
    log.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(wait.plusSeconds(3));
    assertThat(log.written()).isZero();
    assertThat(log.dropped()).as("every line is counted: refused by the full queue, still queued, or being written").isEqualTo(events);
    never.countDown();
  }

  @Test
  void record_afterClose_isDroppedAndCounted() throws Exception {
    AuditLog log = new AuditLog(new ByteArrayOutputStream(), true, 4);
    log.close();

    log.record(event("late", null));

    assertThat(log.dropped()).isOne();
  }
}
