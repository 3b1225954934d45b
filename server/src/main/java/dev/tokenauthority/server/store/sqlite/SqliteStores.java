package dev.tokenauthority.server.store.sqlite;

import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Opens the embedded default store: one SQLite file, {@code token-authority.db}, in the data
 * directory.
 */
public final class SqliteStores {
  public static final String FILE_NAME = "token-authority.db";

  private SqliteStores() {}

  /** Opens (or creates) the store in {@code dataDir}. */
  public static Store open(Path dataDir, Duration timeout) {
    return new JdbcStore(StoreKind.SQLITE, SqliteDatabase.open(dataDir.resolve(FILE_NAME), timeout));
  }

  /** The store with every call's connection passed through {@code wrap}: for fault tests. */
  static Store open(Path dataDir, Duration timeout, java.util.function.UnaryOperator<java.sql.Connection> wrap) {
    return new JdbcStore(StoreKind.SQLITE, SqliteDatabase.open(dataDir.resolve(FILE_NAME), timeout, wrap));
  }
}
