package dev.tokenauthority.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the store contract, persistence included, against the SQLite store in a temporary data
 * directory, plus what only SQLite has: its file's permissions and its behaviour once closed.
 */
class SqliteStoreTest extends StoreContractTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dataDir;

  @Override
  protected Store newStore() {
    return SqliteStores.open(dataDir, TIMEOUT);
  }

  @Override
  protected boolean persists() {
    return true;
  }

  @Override
  protected Store reopen(Store current) {
    current.close();
    return SqliteStores.open(dataDir, TIMEOUT);
  }

  @Test
  void open_newDataDirectory_createsDatabaseFilesOwnerOnly() throws Exception {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX permissions only");
    Path fresh = dataDir.resolve("nested").resolve("data");

    try (Store other = SqliteStores.open(fresh, TIMEOUT)) {
      other.tenants().insertTenant(tenant("acme")); // a write, so SQLite's -wal and -shm files exist too

      Path db = fresh.resolve(SqliteStores.FILE_NAME);
      assertThat(Files.getPosixFilePermissions(db)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
      // WAL mode keeps a -wal and a -shm file beside the database while it is open.
      for (String suffix : new String[] {"-wal", "-shm"}) {
        Path side = fresh.resolve(SqliteStores.FILE_NAME + suffix);
        assertThat(side).exists();
        assertThat(Files.getPosixFilePermissions(side)).as(side.toString())
            .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      }
    }
  }

  @Test
  void insertTenant_afterClose_throwsStoreUnavailable() {
    store.close();

    assertThatThrownBy(() -> store.tenants().insertTenant(tenant("acme"))).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void findTenant_afterClose_throwsStoreUnavailable() {
    store.tenants().insertTenant(tenant("acme"));
    store.close();

    assertThatThrownBy(() -> store.tenants().findTenant("acme")).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void isServing_openThenClosed_isTrueThenFalse() {
    assertThat(store.kind()).isEqualTo("sqlite");
    assertThat(store.isServing()).isTrue();

    store.close();

    assertThat(store.isServing()).isFalse();
  }
}
