package dev.tokenauthority.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data dir left by a server that did not stop cleanly holds its write-ahead log, which the next
 * open replays: fine with its own database, damaging with a backup copied over it.
 */
class SqliteUncleanStopTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  @TempDir Path dir;

  /** The data dir as a kill -9 leaves it after {@code rows} tenants more than {@code backup} holds; returns it. */
  private Path crashedAfter(Path backup, int rows) throws Exception {
    Path live = dir.resolve("live");
    try (Store store = SqliteStores.open(live, TIMEOUT)) {
      for (int i = 0; i < 20; i++) {
        store.tenants().insertTenant(StoreContractTest.tenant("before-" + i));
      }
    }
    Files.copy(live.resolve(SqliteStores.FILE_NAME), backup);
    Path crashed = Files.createDirectories(dir.resolve("crashed"));
    try (Store store = SqliteStores.open(live, TIMEOUT)) {
      for (int i = 0; i < rows; i++) {
        store.tenants().insertTenant(StoreContractTest.tenant("after-" + i));
      }
      // The files as they are at this moment, the server still running: what a crash leaves.
      Path db = live.resolve(SqliteStores.FILE_NAME);
      Files.copy(db, crashed.resolve(SqliteStores.FILE_NAME));
      Files.copy(StoreFiles.walOf(db), StoreFiles.walOf(crashed.resolve(SqliteStores.FILE_NAME)));
    }
    assertThat(Files.size(StoreFiles.walOf(crashed.resolve(SqliteStores.FILE_NAME)))).isPositive();
    return crashed;
  }

  @Test
  void aCrashedStoreWithItsOwnLog_opensWithEveryCommittedRow() throws Exception {
    Path crashed = crashedAfter(dir.resolve("backup.db"), 3000);

    try (Store store = SqliteStores.open(crashed, TIMEOUT)) {
      assertThat(store.tenants().findTenant("after-2999")).isPresent();
      assertThat(store.tenants().findTenant("before-0")).isPresent();
    }
  }

  @Test
  void aBackupRestoredBesideTheCrashedStoresLog_isRefused_notServedDamaged() throws Exception {
    Path backup = dir.resolve("backup.db");
    Path crashed = crashedAfter(backup, 3000);
    Path db = crashed.resolve(SqliteStores.FILE_NAME);
    Files.copy(backup, db, StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(() -> SqliteStores.open(crashed, TIMEOUT).close())
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("did not stop cleanly")
        .hasMessageContaining("remove " + SqliteStores.FILE_NAME + "-wal");

    // As the message says: without the log, the backup opens whole.
    Files.delete(StoreFiles.walOf(db));
    Files.deleteIfExists(Path.of(db + "-shm"));
    try (Store store = SqliteStores.open(crashed, TIMEOUT)) {
      assertThat(store.tenants().findTenant("before-19")).isPresent();
      assertThat(store.tenants().findTenant("after-0")).isEmpty();
    }
  }
}
