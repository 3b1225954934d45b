package dev.tokenauthority.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.sqlite.SQLiteConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What one redemption costs the SQLite store's single writer, without the server around it: a
 * store made from the build's schema template, filled with sessions, then redeemed in groups
 * the size of a group commit, once with the store's statement per session and once with one
 * statement for the whole group ({@code UPDATE ... FROM json_each(?)}). Prints statement time
 * and commit time per redemption, so that the store's ceiling can be read apart from the
 * server's call path (docs/performance.md, "Where a SQLite redeem's time goes").
 */
@Command(name = "sqlite-redeem-cost", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures a SQLite redemption's statement and commit cost on the writer.")
public final class SqliteRedeemCost implements Callable<Integer> {
  /** The store's own statement (SessionBatches.CONSUME_ONE). */
  private static final String ONE =
      "UPDATE sessions SET uses_remaining = uses_remaining - 1"
          + " WHERE id = ? AND uses_remaining > 0 AND revoke_time IS NULL AND expire_time > ?"
          + " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = sessions.api_key_id AND k.revoke_time IS NULL)"
          + " RETURNING uses_remaining";
  /** The same conditions for a whole group, as PostgreSQL's grouped form does with unnest. */
  private static final String MANY =
      "UPDATE sessions SET uses_remaining = sessions.uses_remaining - 1"
          + " FROM (SELECT value ->> 0 AS id, value ->> 1 AS now FROM json_each(?)) AS v"
          + " WHERE sessions.id = v.id AND sessions.uses_remaining > 0 AND sessions.revoke_time IS NULL"
          + " AND sessions.expire_time > v.now"
          + " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = sessions.api_key_id AND k.revoke_time IS NULL)"
          + " RETURNING sessions.id, sessions.uses_remaining";

  @Option(names = "--dir", defaultValue = "bench/target/sqlite-redeem-cost",
      description = "Where the scratch store goes; a real disk, as the server's (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--sessions", defaultValue = "200000", description = "Sessions in the store (default: ${DEFAULT-VALUE}).")
  int sessions;

  @Option(names = "--group", defaultValue = "64", description = "Redemptions per commit (default: ${DEFAULT-VALUE}).")
  int group;

  /** Which ids the store holds and in what order they are redeemed. */
  enum Order {
    /** Random ids redeemed in random order: every redeem its own page. */
    random,
    /** Time-ordered ids, as the server makes them, redeemed in the order they were minted. */
    minted
  }

  @Option(names = "--order", defaultValue = "random",
      description = "random: ids random and redeemed in random order (every redeem its own page);"
          + " minted: time-ordered ids, as the server makes, redeemed in the order they were minted (default: ${DEFAULT-VALUE}).")
  Order order;

  @Option(names = "--pragma", description = "Extra PRAGMA for the connection (repeatable), e.g. --pragma cache_size=-65536.")
  List<String> pragmas = new ArrayList<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new SqliteRedeemCost()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path file = SqliteScratchStore.create(dir);
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    try (Connection c = config.createConnection("jdbc:sqlite:" + file)) {
      try (Statement s = c.createStatement()) {
        for (String pragma : pragmas) {
          s.execute("PRAGMA " + pragma);
        }
      }
      c.setAutoCommit(false);
      long now = System.currentTimeMillis();
      List<String> ids = fill(c, now);
      if (order == Order.random) {
        Collections.shuffle(ids, new Random(1));
      }
      int half = ids.size() / 2;
      System.out.printf("%,d sessions, %s order, groups of %d, synchronous=FULL, WAL%s%n", sessions, order, group,
          pragmas.isEmpty() ? "" : ", PRAGMA " + String.join(", ", pragmas));
      report("statement per session", redeem(c, ids.subList(0, half), now, false), half);
      report("statement per group  ", redeem(c, ids.subList(half, ids.size()), now, true), ids.size() - half);
    }
    return 0;
  }

  private List<String> fill(Connection c, long now) throws SQLException {
    List<String> ids = new ArrayList<>(sessions);
    for (int i = 0; i < sessions; i++) {
      String random = UUID.randomUUID().toString().replace("-", "");
      ids.add(order == Order.minted ? String.format("ses_%08x%s", i, random.substring(8)) : "ses_" + random);
    }
    SqliteScratchStore.insertSessions(c, ids, now);
    c.commit();
    return ids;
  }

  /** Statement nanoseconds, total nanoseconds, commits, redemptions taken. */
  private record Cost(long statementNanos, long totalNanos, int commits, int taken) {}

  private Cost redeem(Connection c, List<String> ids, long now, boolean grouped) throws SQLException {
    long statementNanos = 0;
    int commits = 0;
    int taken = 0;
    long start = System.nanoTime();
    try (PreparedStatement one = c.prepareStatement(ONE); PreparedStatement many = c.prepareStatement(MANY)) {
      for (int i = 0; i < ids.size(); i += group) {
        List<String> slice = ids.subList(i, Math.min(ids.size(), i + group));
        long t = System.nanoTime();
        if (grouped) {
          StringBuilder json = new StringBuilder("[");
          for (String id : slice) {
            json.append(json.length() > 1 ? "," : "").append("[\"").append(id).append("\",").append(now).append(']');
          }
          many.setString(1, json.append(']').toString());
          try (ResultSet rs = many.executeQuery()) {
            while (rs.next()) {
              taken++;
            }
          }
        } else {
          for (String id : slice) {
            one.setString(1, id);
            one.setLong(2, now);
            try (ResultSet rs = one.executeQuery()) {
              taken += rs.next() ? 1 : 0;
            }
          }
        }
        statementNanos += System.nanoTime() - t;
        c.commit();
        commits++;
      }
    }
    return new Cost(statementNanos, System.nanoTime() - start, commits, taken);
  }

  private static void report(String how, Cost cost, int count) {
    if (cost.taken() != count) {
      throw new IllegalStateException(how + ": took " + cost.taken() + " uses of " + count);
    }
    System.out.printf("%s: statements %.1f µs, commits %.1f µs, total %.1f µs per redemption (%.0f µs per commit)%n",
        how, cost.statementNanos() / 1e3 / count, (cost.totalNanos() - cost.statementNanos()) / 1e3 / count,
        cost.totalNanos() / 1e3 / count, (cost.totalNanos() - cost.statementNanos()) / 1e3 / cost.commits());
  }
}
