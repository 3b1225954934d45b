package dev.tokenauthority.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What the SQLite JDBC driver adds to a point read of a session row, apart from SQLite: the
 * store's lookup (fifteen columns) read as the store reads it, with its text columns read as
 * bytes instead, and a one-column lookup of the same row, with and without the other fourteen
 * in the statement; and the lookup of a group of rows in one statement, as the store's writer
 * makes its redeems' lookups. The driver fetches a statement's column names again on every
 * execution, so the third and fourth differ by what that costs (docs/performance.md, "The
 * SQLite writer's CPU").
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

  @Option(names = "--group", defaultValue = "23",
      description = "Rows per grouped lookup: about the redeems one SQLite writer turn holds under the bench's load (default: ${DEFAULT-VALUE}).")
  int group;

  @Option(names = "--rounds", defaultValue = "5", description = "Rounds; the first warms the JIT up (default: ${DEFAULT-VALUE}).")
  int rounds;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SqliteReadCost()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path file = SqliteScratchStore.create(dir);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      c.setAutoCommit(false);
      List<String> ids = new ArrayList<>(sessions);
      for (int i = 0; i < sessions; i++) {
        ids.add(String.format("ses_%010d", i));
      }
      SqliteScratchStore.insertSessions(c, ids, System.currentTimeMillis());
      c.commit();
      PreparedStatement all = c.prepareStatement("SELECT " + COLUMNS + " FROM sessions WHERE id = ?");
      PreparedStatement one = c.prepareStatement("SELECT uses_remaining FROM sessions WHERE id = ?");
      Map<Integer, PreparedStatement> grouped = new HashMap<>();
      System.out.printf("µs per lookup: 15 columns read as strings | text read as bytes | 1-column statement"
          + " | 15-column statement, 1 read | %d rows per statement, 15 columns as strings%n", group);
      for (int round = 1; round <= rounds; round++) {
        long t0 = System.nanoTime();
        for (String id : ids) {
          readAll(all, id, false);
        }
        long t1 = System.nanoTime();
        for (String id : ids) {
          readAll(all, id, true);
        }
        long t2 = System.nanoTime();
        for (String id : ids) {
          readUsesRemaining(one, 1, id);
        }
        long t3 = System.nanoTime();
        for (String id : ids) {
          readUsesRemaining(all, 14, id);
        }
        long t4 = System.nanoTime();
        for (int i = 0; i < ids.size(); i += group) {
          List<String> slice = ids.subList(i, Math.min(ids.size(), i + group));
          PreparedStatement ps = grouped.get(slice.size());
          if (ps == null) {
            // The store's grouped lookup (SessionBatches): one placeholder per id.
            ps = c.prepareStatement("SELECT " + COLUMNS + " FROM sessions WHERE id IN (" + "?,".repeat(slice.size() - 1) + "?)");
            grouped.put(slice.size(), ps);
          }
          readGroup(ps, slice);
        }
        long t5 = System.nanoTime();
        System.out.printf("round %d: %.2f | %.2f | %.2f | %.2f | %.2f%n", round, perRow(t1 - t0), perRow(t2 - t1), perRow(t3 - t2),
            perRow(t4 - t3), perRow(t5 - t4));
      }
    }
    return 0;
  }

  private double perRow(long nanos) {
    return nanos / 1e3 / sessions;
  }

  /** One row's fifteen columns, its text as the store reads it ({@code getString}) or as bytes. */
  private static long readAll(PreparedStatement ps, String id, boolean textAsBytes) throws SQLException {
    ps.setString(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return readRow(rs, textAsBytes);
    }
  }

  /** The rows of a group of ids, through one statement, each read as the store reads a row. */
  private static long readGroup(PreparedStatement ps, List<String> ids) throws SQLException {
    for (int i = 0; i < ids.size(); i++) {
      ps.setString(i + 1, ids.get(i));
    }
    long sink = 0;
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        sink += readRow(rs, false);
      }
    }
    return sink;
  }

  private static long readRow(ResultSet rs, boolean textAsBytes) throws SQLException {
    long sink = 0;
    for (int k = 1; k <= 8; k++) {
      String text = textAsBytes ? new String(rs.getBytes(k), StandardCharsets.UTF_8) : rs.getString(k);
      sink += text.length();
    }
    byte[] context = rs.getBytes(9);
    sink += (context == null ? 0 : context.length) + rs.getBytes(10).length;
    return sink + rs.getLong(11) + rs.getLong(12) + rs.getInt(13) + rs.getInt(14) + rs.getLong(15);
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
