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

/**
 * An exclusive lock on a data directory ({@code .lock} in it, holding the owner's pid), held for
 * as long as the store is open. Two processes on one SQLite file would each keep their own rate
 * limits and caches, so the second is refused at start. The operating system releases the lock
 * when the process ends, however it ends: a stale file left by a kill -9 does not block a start.
 */
final class DataDirLock implements AutoCloseable {
  static final String FILE_NAME = ".lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock without waiting.
   *
   * @throws StoreUnavailableException when another process (or this one) holds it, or the
   *     directory is not writable
   */
  static DataDirLock acquire(Path dir) {
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
      return new DataDirLock(channel, lock);
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      if (e instanceof StoreUnavailableException su) {
        throw su;
      }
      throw new StoreUnavailableException("cannot lock the data dir " + dir + ": " + FileProblems.reason(e), e);
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

  /** Releases the lock; the file stays (removing it could race with a process starting). */
  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException ignored) {
      // the channel's close releases it too
    }
    closeQuietly(channel);
  }
}
