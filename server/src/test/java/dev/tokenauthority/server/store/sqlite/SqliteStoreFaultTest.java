package dev.tokenauthority.server.store.sqlite;

import dev.tokenauthority.server.store.ConnectionFaults;
import dev.tokenauthority.server.store.ConnectionFaults.Step;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreFaultContractTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * SQLite under a full disk and I/O errors. On either, SQLite may roll the transaction back by
 * itself (the faults do so behind the driver's back), which left the old writer connection
 * committing every later statement on its own.
 */
class SqliteStoreFaultTest extends StoreFaultContractTest {
  @TempDir Path root;

  @Override
  protected Store newStore(ConnectionFaults faults) throws Exception {
    return SqliteStores.open(Files.createTempDirectory(root, "fault-"), Duration.ofSeconds(5), faults);
  }

  @Override
  protected Stream<Arguments> faults() {
    return Stream.of(
        fault("disk full at the statement", Step.BEFORE_STATEMENT, () -> sqlite(SQLiteErrorCode.SQLITE_FULL), true),
        fault("disk full at commit", Step.BEFORE_COMMIT, () -> sqlite(SQLiteErrorCode.SQLITE_FULL), true),
        fault("I/O error at the statement", Step.BEFORE_STATEMENT, () -> sqlite(SQLiteErrorCode.SQLITE_IOERR), true),
        fault("I/O error at commit", Step.BEFORE_COMMIT, () -> sqlite(SQLiteErrorCode.SQLITE_IOERR), true));
  }

  private static SQLiteException sqlite(SQLiteErrorCode code) {
    return new SQLiteException(code.message, code);
  }
}
