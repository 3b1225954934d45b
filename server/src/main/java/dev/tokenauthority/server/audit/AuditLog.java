package dev.tokenauthority.server.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
 * writes in batches, flushing whenever the queue runs empty (so a line is on disk a few
 * milliseconds after its call); when the queue is full the event is dropped and counted
 * ({@link #dropped()}). {@link #close()} writes what is queued, then flushes.
 */
public final class AuditLog implements AutoCloseable {
  /** Events waiting at most; at ~200 bytes a line, a few MiB. */
  public static final int DEFAULT_CAPACITY = 16_384;
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  /** How long the writer lets lines gather while busy: the most a line waits to be written. */
  private static final long BATCH_WAIT_MILLIS = 2;
  /** Empty polls (about 200 ms) before the writer blocks until the next line. */
  private static final int IDLE_POLLS = 100;
  private static final DateTimeFormatter RFC_3339 =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
  private static final AuditEvent STOP = new AuditEvent(null, null, null, null, null, null, null, null, null, null, null, null, null, null);

  private final BlockingQueue<AuditEvent> queue;
  private final OutputStream out;
  private final boolean closeOut;
  /** One line at a time: handed to {@code out} in a single write, never split across two. */
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(512);
  private final JsonGenerator json;
  private final Thread writer;
  private final LongAdder dropped = new LongAdder();
  private volatile boolean closed;
  /** Lines written; the writer thread's own count, read after it has ended. */
  private long written;

  /**
   * @param out where lines go; closed by {@link #close()} when {@code closeOut}
   */
  public AuditLog(OutputStream out, boolean closeOut, int capacity) throws IOException {
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
    return new AuditLog(new BufferedOutputStream(new FileOutputStream(file.toFile(), true), 64 * 1024), true, DEFAULT_CAPACITY);
  }

  /** Queues an event without waiting; drops and counts it when the queue is full. */
  public void record(AuditEvent event) {
    if (closed || !queue.offer(event)) {
      dropped.increment();
    }
  }

  /** Events dropped so far because the writer fell behind (or after close). */
  public long dropped() {
    return dropped.sum();
  }

  private void drain() {
    boolean failing = false;
    int idle = 0;
    while (true) {
      AuditEvent event;
      try {
        event = queue.poll();
        if (event == null) {
          flush();
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
        flush();
        return;
      }
      try {
        write(event);
        written++;
        failing = false;
      } catch (IOException e) {
        dropped.increment();
        if (!failing) {
          log.warn("writing the audit log failed, dropping lines until it works again: {}", e.getMessage());
          failing = true;
        }
      }
    }
  }

  private void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      log.warn("flushing the audit log failed: {}", e.getMessage());
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
      line.writeTo(out);
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
    try {
      // The queue may be full: wait for room rather than lose the stop (and the lines before it).
      while (!queue.offer(STOP, 100, TimeUnit.MILLISECONDS)) {
        if (!writer.isAlive()) {
          break;
        }
      }
      writer.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long lost = dropped();
    if (lost > 0) {
      log.warn("audit log closed: {} lines written, {} dropped because the writer fell behind", written, lost);
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
