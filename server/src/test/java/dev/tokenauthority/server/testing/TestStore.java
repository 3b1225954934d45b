package dev.tokenauthority.server.testing;

import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.store.postgres.PostgresStores;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The stores a gRPC suite runs on, each opened fresh and empty per test: a suite annotated
 * {@code @ParameterizedClass @EnumSource(TestStore.class)} runs every one of its tests on each.
 */
public enum TestStore {
  MEMORY {
    @Override
    public Store open(Path scratch) {
      return new MemoryStore();
    }
  },
  SQLITE {
    @Override
    public Store open(Path scratch) {
      return SqliteStores.open(scratch.resolve("s" + System.nanoTime()), TIMEOUT);
    }
  },
  /** A database of its own per test, on the one PostgreSQL server of the test JVM. */
  POSTGRES {
    @Override
    public Store open(Path scratch) {
      return PostgresStores.open(TestPostgres.newStoreDatabase(), null, TIMEOUT);
    }
  };

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** A new, empty store; a file-backed one keeps its files under {@code scratch}. */
  public abstract Store open(Path scratch);
}
