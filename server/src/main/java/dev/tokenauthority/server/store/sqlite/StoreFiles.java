package dev.tokenauthority.server.store.sqlite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The identity (device and inode) of the database file an open store uses, and of its
 * write-ahead log once it exists, to notice either deleted or replaced under the running server:
 * SQLite goes on with the files it opened, so writes would be acknowledged into a file the next
 * start never sees, and a used token could redeem again after it.
 */
final class StoreFiles {
  private final Path database;
  private final Path wal;
  private final Object databaseKey;
  private volatile Object walKey;

  private StoreFiles(Path database, Object databaseKey) {
    this.database = database;
    this.wal = walOf(database);
    this.databaseKey = databaseKey;
    this.walKey = key(wal);
  }

  /** Where SQLite keeps the write-ahead log of {@code database}. */
  static Path walOf(Path database) {
    return database.resolveSibling(database.getFileName() + "-wal");
  }

  /** The files as they are now, right after the store opened them. */
  static StoreFiles of(Path database) {
    Path real;
    try {
      // SQLite keeps the log beside the file a symbolic link points to: watch that one.
      real = database.toRealPath();
    } catch (IOException e) {
      real = database;
    }
    return new StoreFiles(real, key(real));
  }

  /** Null while the files at their paths are the ones opened; else what happened, in one line. */
  String problem() {
    if (databaseKey != null && !databaseKey.equals(key(database))) {
      return database + " was deleted or replaced while the server ran";
    }
    Object now = key(wal);
    if (walKey == null) {
      walKey = now; // SQLite makes the log at the first write
    } else if (!walKey.equals(now)) {
      return wal + " was deleted or replaced while the server ran: writes since the last checkpoint are in the old one";
    }
    return null;
  }

  /** The file's identity, or null when it does not exist or the file system names none. */
  static Object key(Path file) {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    } catch (IOException e) {
      return null;
    }
  }
}
