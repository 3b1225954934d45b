package dev.tokenauthority.server.store.sqlite;

import dev.tokenauthority.server.store.jdbc.JdbcStore;
import java.nio.file.Path;
import java.time.Duration;

/** The embedded default store: one SQLite file, {@code token-authority.db}, in the data directory. */
public final class SqliteStore {
  public static final String FILE_NAME = "token-authority.db";

  private SqliteStore() {}

  /** Opens (or creates) the store in {@code dataDir}. */
  public static JdbcStore open(Path dataDir, Duration timeout) {
    return new JdbcStore("sqlite", SqliteDatabase.open(dataDir.resolve(FILE_NAME), timeout));
  }
}
