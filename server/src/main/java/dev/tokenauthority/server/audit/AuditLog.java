package dev.tokenauthority.server.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@link AuditEvent}s as JSON lines, one per event, to a file (appended to) or stdout;
 * line separators, C1 and bidirectional controls in values are escapes ({@link SafeLineEscapes}).
 * Calls never wait for it: an event goes into a bounded queue that one thread drains and
 * writes in batches, whole lines in one write whenever the queue runs empty or a batch reaches
 * 64 KiB (so a line is on disk a few milliseconds after its call); when the queue is full the
 * event is dropped and counted ({@link #dropped()}), and so is every line of a batch the sink
 * refused (a full disk), with one warning until writing works again. {@link #close()} writes
 * what is queued, waiting at most {@link #CLOSE_WAIT} for a sink that takes nothing (a pipe
 * nobody reads), so that shutting down never hangs on it.
 */
public final class AuditLog implements AutoCloseable {
  /** Events waiting at most; at ~200 bytes a line, a few MiB. */
  public static final int DEFAULT_CAPACITY = 16_384;
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  /** How long the writer lets lines gather while busy: the most a line waits to be written. */
  private static final long BATCH_WAIT_MILLIS = 2;
  /** Empty polls (about 200 ms) before the writer blocks until the next line. */
  private static final int IDLE_POLLS = 100;
  /** A batch this large is written without waiting for the queue to run empty. */
  private static final int BATCH_BYTES = 64 * 1024;
  /** The longest {@link #close()} waits for the writer to write what is queued. */
  public static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
  private static final DateTimeFormatter RFC_3339 =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
  private static final AuditEvent STOP = new AuditEvent(null, null, null, null, null, null, null, null, null, null, null, null, null, null);

  private final BlockingQueue<AuditEvent> queue;
  private final OutputStream out;
  private final boolean closeOut;
  /** One line at a time, added whole to {@link #batch}. */
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(512);
  /** Whole lines handed to {@code out} in a single write, so another writer never splits one. */
  private final ByteArrayOutputStream batch = new ByteArrayOutputStream(BATCH_BYTES + 1024);
  /** Lines in {@link #batch}; the writer thread's own. */
  private int batchLines;
  /** Whether the last batch was refused (one warning until a batch is written again); the writer's own. */
  private boolean failing;
  private final JsonGenerator json;
  private final Thread writer;
  private final LongAdder dropped = new LongAdder();
  private volatile boolean closed;
  private final Duration closeWait;
  /** Lines the sink took; the writer thread's own count, read after it has ended. */
  private volatile long written;
  /** Whether the sink kept part of a refused batch that could not be cut off (writer thread only). */
  private boolean lineBroken;
  /** Lines of the batch being handed to the sink, for a close() that gives up on it. */
  private volatile int inFlight;

  /**
   * @param out where lines go; closed by {@link #close()} when {@code closeOut}
   */
  public AuditLog(OutputStream out, boolean closeOut, int capacity) throws IOException {
    this(out, closeOut, capacity, CLOSE_WAIT);
  }

  /** As above, with another limit on how long {@link #close()} waits for a stuck sink (tests). */
  AuditLog(OutputStream out, boolean closeOut, int capacity, Duration closeWait) throws IOException {
    this.closeWait = closeWait;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.out = out;
    this.closeOut = closeOut;
    this.json = new JsonFactory().createGenerator(line);
    // One object per line, and the stream stays ours to close.
    json.setRootValueSeparator(null);
    json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    json.disable(JsonGenerator.Feature.FLUSH_PASSED_TO_STREAM);
    // Request text (a user id, a certificate subject) must not break or disguise a line.
    json.setCharacterEscapes(new SafeLineEscapes());
    this.writer = new Thread(this::drain, "audit-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Opens {@code target}: {@code -} for stdout, else a file, created {@code rw-------} if
   * missing and appended to.
   */
  public static AuditLog open(String target) throws IOException {
    if (target.equals("-")) {
      return new AuditLog(System.out, false, DEFAULT_CAPACITY);
    }
    Path file = Path.of(target);
    if (!java.nio.file.Files.exists(file)) {
      try {
        java.nio.file.Files.createFile(
            file,
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: the default mode
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // created meanwhile: append to it
      }
    }
    // Unbuffered: the writer hands it whole batches, and must know which of them the disk refused.
    return new AuditLog(new FileOutputStream(file.toFile(), true), true, DEFAULT_CAPACITY);
  }

  /** Queues an event without waiting; drops and counts it when the queue is full. */
  public void record(AuditEvent event) {
    if (closed || !queue.offer(event)) {
      dropped.increment();
    }
  }

  /** Events dropped so far because the writer fell behind, the sink refused them, or after close. */
  public long dropped() {
    return dropped.sum();
  }

  /** Lines the sink took so far. */
  long written() {
    return written;
  }

  private void drain() {
    int idle = 0;
    while (true) {
      AuditEvent event;
      try {
        event = queue.poll();
        if (event == null) {
          writeBatch();
          if (idle < IDLE_POLLS) {
            // Busy: let a batch gather rather than be woken by every call's offer, which on a
            // small machine costs a context switch per line.
            idle++;
            Thread.sleep(BATCH_WAIT_MILLIS);
            continue;
          }
          // Quiet for a while: block, so that an idle server does not wake up for nothing.
          event = queue.take();
        }
        idle = 0;
      } catch (InterruptedException e) {
        return;
      }
      if (event == STOP) {
        writeBatch();
        return;
      }
      try {
        write(event);
        batchLines++;
      } catch (IOException e) {
        // Only the JSON generator writes here, into memory.
        dropped.increment();
        log.warn("an audit line could not be made: {}", e.getMessage());
      }
      if (batch.size() >= BATCH_BYTES) {
        writeBatch();
      }
    }
  }

  /** Hands the batch to the sink in one write and flushes it; a refused batch is dropped and counted. */
  private void writeBatch() {
    if (batchLines == 0) {
      return;
    }
    inFlight = batchLines;
    long fileSize = fileSize();
    boolean fragmentBefore = lineBroken;
    try {
      if (lineBroken) {
        // A sink that kept part of a refused batch: end that fragment's line, so this batch's
        // first line is whole.
        out.write('\n');
        lineBroken = false;
      }
      // Stdout (a PrintStream, shared with the log) keeps its failures to itself, and its error
      // flag would stay set for good: a failing stdout is not seen here, a failing file is.
      batch.writeTo(out);
      out.flush();
      written += batchLines;
      if (failing) {
        log.info("writing the audit log works again");
        failing = false;
      }
    } catch (IOException e) {
      dropped.add(batchLines);
      // A disk that filled up half-way through has kept the bytes that fitted: cut them off,
      // or the next batch would be appended to half a line.
      // A fragment left by an earlier batch is still there: cutting off this one does not end it.
      lineBroken = !truncateTo(fileSize) || fragmentBefore;
      if (!failing) {
        log.warn("writing the audit log failed, dropping lines until it works again: {}", e.getMessage());
        failing = true;
      }
    } finally {
      batch.reset();
      batchLines = 0;
      inFlight = 0;
    }
  }

  /** The file's size before a batch, or -1 when the sink is not a file. */
  private long fileSize() {
    try {
      return out instanceof FileOutputStream file ? file.getChannel().size() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** Cuts the file back to {@code size}; false when the sink is not a file or refuses that too. */
  private boolean truncateTo(long size) {
    if (size < 0 || !(out instanceof FileOutputStream file)) {
      return false;
    }
    try {
      file.getChannel().truncate(size);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void write(AuditEvent e) throws IOException {
    json.writeStartObject();
    json.writeStringField("time", RFC_3339.format(e.time()));
    json.writeStringField("rpc", e.rpc());
    json.writeStringField("outcome", e.outcome());
    json.writeStringField("code", e.code());
    field("reason", e.reason(), true);
    field("tenant", e.tenant(), true);
    field("api_key_id", e.apiKeyId(), true);
    field("session_id", e.sessionId(), false);
    field("external_user_id", e.externalUserId(), false);
    field("target_api_key_id", e.targetApiKeyId(), false);
    field("target_tenant", e.targetTenant(), false);
    field("kid", e.kid(), false);
    field("peer", e.peer(), true);
    field("peer_certificate", e.peerCertificate(), false);
    json.writeEndObject();
    json.writeRaw('\n');
    json.flush();
    try {
      // Whole lines only: on stdout, a log line written between two writes would split one.
      line.writeTo(batch);
    } finally {
      line.reset();
    }
  }

  /** Always-present fields are written as null when unknown; the others only when set. */
  private void field(String name, String value, boolean always) throws IOException {
    if (value != null) {
      json.writeStringField(name, value);
    } else if (always) {
      json.writeNullField(name);
    }
  }

  /** Writes every queued event, flushes, and closes the file (not stdout). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    long deadline = System.nanoTime() + closeWait.toNanos();
    try {
      // The queue may be full: wait for room rather than lose the stop (and the lines before it),
      // but not past the deadline: a sink that takes nothing would hold the shutdown for ever.
      while (!queue.offer(STOP, 100, TimeUnit.MILLISECONDS)) {
        if (!writer.isAlive() || System.nanoTime() > deadline) {
          break;
        }
      }
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left > 0) {
        writer.join(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      List<AuditEvent> left = new ArrayList<>();
      queue.drainTo(left);
      long queued = left.stream().filter(e -> e != STOP).count();
      int writing = inFlight;
      dropped.add(queued + writing);
      writer.interrupt();
      log.warn("the audit log's sink took nothing in time: gave up on the {} lines still queued and the {} being written",
          queued, writing);
      // Closing a stream its writer is blocked in could block too; the process is exiting.
      return;
    }
    long lost = dropped();
    if (lost > 0) {
      log.warn("audit log closed: {} lines written, {} dropped (the writer fell behind or the sink refused them)", written, lost);
    } else {
      log.info("audit log closed: {} lines written", written);
    }
    try {
      if (closeOut) {
        out.close();
      }
    } catch (IOException e) {
      log.warn("closing the audit log failed: {}", e.getMessage());
    }
  }
}
