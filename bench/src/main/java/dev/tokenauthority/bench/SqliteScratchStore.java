package dev.tokenauthority.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;

/**
 * A scratch SQLite store for the bench's store-level tools ({@link SqliteRedeemCost},
 * {@link SqliteReadCost}): a copy of the schema template the server build makes, so that the
 * tools measure the store's own tables and indexes, and sessions of one API key put in it.
 */
final class SqliteScratchStore {
  private SqliteScratchStore() {}

  /** {@code dir/store.db}, a fresh copy of the template (any earlier store and its WAL removed). */
  static Path create(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("store.db");
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Files.deleteIfExists(Path.of(file + suffix));
    }
    try (InputStream template = SqliteScratchStore.class.getClassLoader().getResourceAsStream("db/sqlite-template.db")) {
      if (template == null) {
        throw new IllegalStateException("no db/sqlite-template.db on the class path: build the server module first");
      }
      Files.copy(template, file);
    }
    return file;
  }

  /** An API key and, minted by it at {@code now} for an hour of one use, a session per id; not committed. */
  static void insertSessions(Connection c, List<String> ids, long now) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.executeUpdate("INSERT INTO api_keys VALUES ('key', 'tenant', 'bench', 'sessions:mint', '', x'01', 'hint', 0, NULL, NULL, NULL)");
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      byte[] hash = new byte[32];
      for (int i = 0; i < ids.size(); i++) {
        ps.setString(1, ids.get(i));
        ps.setString(2, "tenant");
        ps.setString(3, "key");
        ps.setString(4, "user-" + i);
        ps.setString(5, "");
        ps.setString(6, "bench-audience");
        ps.setString(7, "orders:read");
        ps.setString(8, "");
        ps.setNull(9, Types.BINARY);
        ps.setBytes(10, hash);
        ps.setLong(11, now);
        ps.setLong(12, now + 3_600_000);
        ps.setInt(13, 1);
        ps.setInt(14, 1);
        ps.setNull(15, Types.INTEGER);
        ps.executeUpdate();
      }
    }
  }
}
