package dev.tokenauthority.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What the SQLite JDBC driver adds to a point read of a session row, apart from SQLite: the
 * store's lookup (fifteen columns) read as the store reads it, with its text columns read as
 * bytes instead, and a one-column lookup of the same row, with and without the other fourteen
 * in the statement. The driver fetches a statement's column names again on every execution,
 * so the last two differ by what that costs (docs/performance.md, "The SQLite writer's CPU").
 */
@Command(name = "sqlite-read-cost", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures the SQLite JDBC driver's share of a session lookup.")
public final class SqliteReadCost implements Callable<Integer> {
  private static final String COLUMNS =
      "id, tenant_id, api_key_id, external_user_id, external_group_id, audience, scopes, origin, context,"
          + " token_hash, issue_time, expire_time, max_uses, uses_remaining, revoke_time";

  @Option(names = "--dir", defaultValue = "bench/target/sqlite-read-cost",
      description = "Where the scratch store goes (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--sessions", defaultValue = "20000", description = "Rows, each read once per round (default: ${DEFAULT-VALUE}).")
  int sessions;

  @Option(names = "--rounds", defaultValue = "5", description = "Rounds; the first warms the JIT up (default: ${DEFAULT-VALUE}).")
  int rounds;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SqliteReadCost()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(dir);
    Path file = dir.resolve("store.db");
    Files.deleteIfExists(file);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      fill(c);
      PreparedStatement all = c.prepareStatement("SELECT " + COLUMNS + " FROM sessions WHERE id = ?");
      PreparedStatement one = c.prepareStatement("SELECT uses_remaining FROM sessions WHERE id = ?");
      System.out.println("µs per lookup: 15 columns read as strings | text read as bytes | 1-column statement | 15-column statement, 1 read");
      for (int round = 1; round <= rounds; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
          readAll(all, id(i), false);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
          readAll(all, id(i), true);
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
          readUsesRemaining(one, 1, id(i));
        }
        long t3 = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
          readUsesRemaining(all, 14, id(i));
        }
        long t4 = System.nanoTime();
        System.out.printf("round %d: %.2f | %.2f | %.2f | %.2f%n", round, perRow(t1 - t0), perRow(t2 - t1), perRow(t3 - t2),
            perRow(t4 - t3));
      }
    }
    return 0;
  }

  private double perRow(long nanos) {
    return nanos / 1e3 / sessions;
  }

  private static String id(int i) {
    return String.format("ses_%010d", i);
  }

  private void fill(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("CREATE TABLE sessions (id TEXT NOT NULL PRIMARY KEY, tenant_id TEXT NOT NULL, api_key_id TEXT NOT NULL,"
          + " external_user_id TEXT NOT NULL, external_group_id TEXT NOT NULL, audience TEXT NOT NULL, scopes TEXT NOT NULL,"
          + " origin TEXT NOT NULL, context BLOB, token_hash BLOB NOT NULL, issue_time INTEGER NOT NULL,"
          + " expire_time INTEGER NOT NULL, max_uses INTEGER NOT NULL, uses_remaining INTEGER NOT NULL, revoke_time INTEGER)"
          + " WITHOUT ROWID");
    }
    c.setAutoCommit(false);
    try (PreparedStatement insert = c.prepareStatement("INSERT INTO sessions (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      for (int i = 0; i < sessions; i++) {
        insert.setString(1, id(i));
        insert.setString(2, "ten_default");
        insert.setString(3, "key_0123456789abcdef");
        insert.setString(4, "user-" + i);
        insert.setString(5, "group-1");
        insert.setString(6, "billing");
        insert.setString(7, "read write");
        insert.setString(8, "https://app.example.com");
        insert.setNull(9, Types.BINARY);
        insert.setBytes(10, new byte[32]);
        insert.setLong(11, 1);
        insert.setLong(12, Long.MAX_VALUE);
        insert.setInt(13, 1);
        insert.setInt(14, 1);
        insert.setNull(15, Types.INTEGER);
        insert.executeUpdate();
      }
    }
    c.commit();
  }

  /** The row's fifteen columns, its text as the store reads it ({@code getString}) or as bytes. */
  private static long readAll(PreparedStatement ps, String id, boolean textAsBytes) throws SQLException {
    ps.setString(1, id);
    long sink = 0;
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      for (int k = 1; k <= 8; k++) {
        String text = textAsBytes ? new String(rs.getBytes(k), StandardCharsets.UTF_8) : rs.getString(k);
        sink += text.length();
      }
      byte[] context = rs.getBytes(9);
      sink += (context == null ? 0 : context.length) + rs.getBytes(10).length;
      sink += rs.getLong(11) + rs.getLong(12) + rs.getInt(13) + rs.getInt(14) + rs.getLong(15);
    }
    return sink;
  }

  /** The row's {@code uses_remaining} only, whatever else the statement selects. */
  private static long readUsesRemaining(PreparedStatement ps, int column, String id) throws SQLException {
    ps.setString(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(column);
    }
  }
}
