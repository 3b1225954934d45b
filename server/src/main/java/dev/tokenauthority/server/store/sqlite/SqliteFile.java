package dev.tokenauthority.server.store.sqlite;

import dev.tokenauthority.server.config.FileProblems;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.jdbc.MigrationProblems;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The store's file before and beneath the {@link SqliteDatabase} that serves it: opening it
 * (locked, created whole from the build's template, checked after an unclean stop, probed,
 * migrated), how every connection to it is set up, and the one-line refusals of a file that
 * cannot serve.
 */
final class SqliteFile {
  private static final Logger log = LoggerFactory.getLogger(SqliteFile.class);

  private SqliteFile() {}

  /**
   * Makes {@code file} ready for a {@link SqliteDatabase}: its directory created and locked, the
   * file created from the build's template when missing, checked after an unclean stop, probed,
   * and its schema brought up to date.
   *
   * @return the data directory's lock, held until the database closes
   * @throws StoreUnavailableException with one line naming the cause, the lock released
   */
  static DataDirLock prepare(Path file, Duration timeout) {
    Path dir = file.toAbsolutePath().getParent();
    DataDirLock lock = null;
    try {
      Files.createDirectories(dir);
      lock = DataDirLock.acquire(dir);
      if (Files.notExists(file)) {
        refuseOrphanedLog(file);
        create(file);
      } else if (Files.size(file) == 0 && SqliteFile.class.getClassLoader().getResource(BundledSchema.TEMPLATE) != null) {
        // This build puts a new store in place whole, so an empty file came from elsewhere (a
        // copy or restore that failed): set up anew, it would silently be another store.
        throw new StoreUnavailableException(
            file + " is empty (0 bytes), which no store of this build ever is: a copy or restore that failed? Restore it,"
                + " or remove it to start a new store (with new signing and admin keys)",
            null);
      }
      // A log left by a server that did not stop cleanly is replayed onto the database: checked
      // first, since a backup restored beside it would be silently damaged by it.
      Path wal = StoreFiles.walOf(file);
      if (Files.exists(wal) && Files.size(wal) > 0) {
        checkAfterUncleanStop(file, timeout);
      }
      // Before Flyway, whose errors are many lines: a file that is not a database, or one this
      // process cannot write, is refused here with one line naming the cause.
      int stamp = probe(file, timeout);
      // A file this build's migrations already brought up to date needs no Flyway (BundledSchema).
      if (stamp != BundledSchema.stamp()) {
        BundledSchema.migrate(file);
        setUserVersion(file, timeout, BundledSchema.stamp());
      }
      return lock;
    } catch (SQLException | IOException | RuntimeException e) {
      close(lock);
      throw openFailure(file, e);
    }
  }

  /**
   * The one-line refusal of a store that could not be opened: a migration's problem, the SQLite
   * cause inside what Flyway wraps in many lines, or the file's problem.
   */
  static StoreUnavailableException openFailure(Path file, Exception e) {
    if (e instanceof StoreUnavailableException already) {
      return already;
    }
    Optional<String> migration = MigrationProblems.describe(e);
    if (migration.isPresent()) {
      return new StoreUnavailableException("cannot open the SQLite store at " + file + ": " + migration.get(), e);
    }
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof SQLException sql) {
        return new StoreUnavailableException(describeOpenFailure(file, sql), e);
      }
    }
    return new StoreUnavailableException("cannot open the SQLite store at " + file + ": " + FileProblems.reason(e), e);
  }

  /**
   * A write-ahead log without its database: the database was deleted or moved, and SQLite would
   * replay the old log onto a new file (bringing back keys meant to be gone, or damaging it).
   */
  private static void refuseOrphanedLog(Path file) throws IOException {
    Path wal = StoreFiles.walOf(file);
    if (Files.exists(wal) && Files.size(wal) > 0) {
      throw new StoreUnavailableException(
          wal + " is there without " + file.getFileName() + ": the database was deleted or moved. Restore it, or, to start"
              + " a new store, remove " + wal.getFileName() + " and " + file.getFileName() + "-shm too",
          null);
    }
  }

  /**
   * {@code PRAGMA quick_check} of the database as its log makes it (milliseconds for a store of a
   * few MiB, linear in its size), before anything writes to it. SQLite cannot tell a log from
   * another file's: one left by a crash, with a backup copied over the database, replays the
   * crashed store's pages onto the backup, and the result serves some reads and fails others.
   */
  private static void checkAfterUncleanStop(Path file, Duration timeout) {
    long started = System.nanoTime();
    String result;
    // Read-only: the last connection to close a database checkpoints its log into it, which
    // would write the foreign pages into the backup file itself.
    try (Connection c = connect(file, timeout, true);
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("PRAGMA quick_check")) {
      result = rs.next() ? rs.getString(1) : "no answer";
    } catch (SQLException e) {
      result = e.getMessage();
    }
    if (!"ok".equals(result)) {
      Path wal = StoreFiles.walOf(file);
      throw new StoreUnavailableException(
          file + " is damaged as its log " + wal.getFileName() + ", left by a server that did not stop cleanly, makes it ("
              + firstLineOf(result) + "). Was a backup put in place with that log still there? Stop, remove "
              + wal.getFileName() + " and " + file.getFileName() + "-shm, then copy the backup in again",
          null);
    }
    log.info("checked {} after an unclean stop: ok ({} ms)", file.getFileName(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  private static String firstLineOf(String text) {
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  private static void close(DataDirLock lock) {
    if (lock != null) {
      lock.close();
    }
  }

  /**
   * Reads the file's header and writes it back unchanged (a real write transaction): a file that
   * is not a database or is damaged, and a database in a read-only file or directory (which
   * SQLite would otherwise open read-only, serving reads and failing every write), fail here.
   *
   * @return the header's {@code user_version}: the {@link BundledSchema#stamp()} of the
   *     migrations last applied, or 0
   */
  private static int probe(Path file, Duration timeout) {
    try (Connection c = connect(file, timeout, false); java.sql.Statement s = c.createStatement()) {
      int version;
      try (java.sql.ResultSet rs = s.executeQuery("PRAGMA user_version")) {
        rs.next();
        version = rs.getInt(1);
      }
      s.executeUpdate("PRAGMA user_version = " + version);
      if (version == BundledSchema.stamp()) {
        // What Flyway, skipped for this file, would have read first: damage there fails here.
        try (java.sql.ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM flyway_schema_history")) {
          rs.next();
        }
      }
      return version;
    } catch (SQLException e) {
      throw new StoreUnavailableException(describeOpenFailure(file, e), e);
    }
  }

  private static void setUserVersion(Path file, Duration timeout, int version) throws SQLException {
    try (Connection c = connect(file, timeout, false); java.sql.Statement s = c.createStatement()) {
      s.executeUpdate("PRAGMA user_version = " + version);
    }
  }

  private static String describeOpenFailure(Path file, SQLException e) {
    String name = e instanceof org.sqlite.SQLiteException se ? se.getResultCode().name() : "SQLite error " + e.getErrorCode();
    return switch (e.getErrorCode()) {
      case 26, 11 -> file + " is not a SQLite database or is damaged (" + name + "); restore it from a backup";
      case 8, 14 -> "cannot write " + file + " (" + name + "): the data dir and its files must be writable by this user";
      default -> "cannot open the SQLite store at " + file + ": " + FileProblems.reason(e);
    };
  }

  /**
   * A new store: a copy of the build's {@link BundledSchema#TEMPLATE}, readable by this user only,
   * put in place whole (written aside, synced, renamed) so that a crash never leaves half a
   * file; an empty file when this build has no template.
   */
  private static void create(Path file) throws IOException {
    try (InputStream template = SqliteFile.class.getClassLoader().getResourceAsStream(BundledSchema.TEMPLATE)) {
      if (template == null) {
        createOwnerOnly(file);
        return;
      }
      Path aside = file.resolveSibling(file.getFileName() + ".new");
      Files.deleteIfExists(aside);
      createOwnerOnly(aside);
      try (FileChannel out = FileChannel.open(aside, StandardOpenOption.WRITE)) {
        // An OutputStream writes every byte or throws; FileChannel.transferFrom from a stream
        // stops quietly at a short write (a disk filling up), which renamed half a store into place.
        template.transferTo(Channels.newOutputStream(out));
        out.force(true);
      } catch (IOException e) {
        Files.deleteIfExists(aside);
        throw e;
      }
      Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  private static void createOwnerOnly(Path file) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException e) {
      // An existing store keeps its permissions.
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
  }

  /** A connection to the store's file, as every connection of the store is set up: WAL, {@code synchronous=FULL}. */
  static Connection connect(Path file, Duration timeout, boolean readOnly) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    // FULL: a commit is on disk before the call returns, even across power loss.
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    config.setBusyTimeout((int) timeout.toMillis());
    config.setReadOnly(readOnly);
    // Nothing here reads generated keys (sessions have no rowid). With this on, the driver
    // matches every executed statement against a regular expression and, after each INSERT,
    // prepares and runs "SELECT last_insert_rowid()": a tenth of the writer's CPU per mint.
    config.setGetGeneratedKeys(false);
    // What a write deletes is zeroed in the pages it writes anyway (no extra I/O): an erased
    // private key is not left readable in the page's free space (scrubErased does the log).
    config.setPragma(SQLiteConfig.Pragma.SECURE_DELETE, "FAST");
    return config.createConnection("jdbc:sqlite:" + file);
  }
}
