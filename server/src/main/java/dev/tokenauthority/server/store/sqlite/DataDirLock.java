package dev.tokenauthority.server.store.sqlite;

import dev.tokenauthority.server.config.FileProblems;
import dev.tokenauthority.server.error.StoreUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on a data directory ({@code .lock} in it, holding the owner's pid), held for
 * as long as the store is open. Two processes on one SQLite file would each keep their own rate
 * limits and caches, so the second is refused at start. The operating system releases the lock
 * when the process ends, however it ends: a stale file left by a kill -9 does not block a start.
 * The file looks like a stale pid file and may be removed under a running server: {@link
 * #recheck} takes the lock again on a new file, or says that another process did.
 */
final class DataDirLock implements AutoCloseable {
  static final String FILE_NAME = ".lock";
  private static final Logger log = LoggerFactory.getLogger(DataDirLock.class);

  private final Path dir;
  private Held held;
  private boolean closed;

  /** A locked channel, and the identity of the file it is on. */
  private record Held(FileChannel channel, FileLock lock, Object fileKey) {}

  private DataDirLock(Path dir, Held held) {
    this.dir = dir;
    this.held = held;
  }

  /**
   * Takes the lock without waiting.
   *
   * @throws StoreUnavailableException when another process (or this one) holds it, or the
   *     directory is not writable
   */
  static DataDirLock acquire(Path dir) {
    return new DataDirLock(dir, take(dir));
  }

  private static Held take(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new StoreUnavailableException("cannot write in the data dir " + dir + ": " + FileProblems.reason(e), e);
    }
    try {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        String owner = owner(file);
        throw new StoreUnavailableException(
            "the data dir " + dir + " is in use by another token-authority process" + (owner.isEmpty() ? "" : " (pid " + owner + ")")
                + "; one process per data dir",
            null);
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
      return new Held(channel, lock, StoreFiles.key(file));
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      if (e instanceof StoreUnavailableException su) {
        throw su;
      }
      throw new StoreUnavailableException("cannot lock the data dir " + dir + ": " + FileProblems.reason(e), e);
    }
  }

  /**
   * Checks that {@code .lock} at its path is still the file this process locked. Removed (a
   * cleaner took it for a stale pid file) or replaced, the lock is taken again on the file now
   * there, unless another process holds that one.
   *
   * @return null while this process holds the data dir; else why it may not, in one line
   */
  synchronized String recheck() {
    if (closed) {
      return null;
    }
    Object now = StoreFiles.key(dir.resolve(FILE_NAME));
    if (held.fileKey() == null || held.fileKey().equals(now)) {
      return null; // the same file, or a file system that names no identity to compare
    }
    try {
      Held again = take(dir);
      release(held);
      held = again;
      log.warn("{} was removed while the server ran; it is locked again", dir.resolve(FILE_NAME));
      return null;
    } catch (StoreUnavailableException e) {
      return dir.resolve(FILE_NAME) + " was removed while the server ran, and " + e.getMessage();
    }
  }

  private static String owner(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
      return text.matches("\\d{1,10}") ? text : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing held yet
    }
  }

  private static void release(Held held) {
    try {
      held.lock().release();
    } catch (IOException ignored) {
      // the channel's close releases it too
    }
    closeQuietly(held.channel());
  }

  /** Releases the lock; the file stays (removing it could race with a process starting). */
  @Override
  public synchronized void close() {
    closed = true;
    release(held);
  }
}
