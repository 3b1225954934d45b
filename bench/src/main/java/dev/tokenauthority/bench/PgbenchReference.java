package dev.tokenauthority.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL's own rate for the statements the authority runs per call, measured with
 * {@code pgbench} on the same database in the same run: the reference the postgres store's
 * figures are divided by. Mint is one INSERT of a session row (time-ordered id, as the server
 * makes them); redeem is the server's read by id, then its conditional UPDATE ... RETURNING,
 * each in autocommit as the server runs them. A rate-limited tenant's mint adds the admission
 * of its key's bucket (one row for every mint of the key); a quota tenant's redeem charges its
 * month's row (one row for every redeem of the tenant), as the server does.
 */
final class PgbenchReference {
  static final int SESSIONS = 100_000;
  private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");

  private static final String COLUMNS =
      "id, tenant_id, api_key_id, external_user_id, external_group_id, audience, scopes, origin, context,"
          + " token_hash, issue_time, expire_time, max_uses, uses_remaining, revoke_time";

  private static final String INSERT_SCRIPT =
      "\\set n random(1, 1000000000)\n"
          + "INSERT INTO pgbench_sessions (" + COLUMNS + ") VALUES ("
          + "'ses_' || lpad((extract(epoch from clock_timestamp()) * 1000000)::bigint::text, 17, '0') || '_' || :n,"
          + " 'default', 'key_pgbench', 'user_' || :n, '', '', '', '', NULL,"
          + " '\\x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'::bytea,"
          + " 1, 9999999999999, 1, 1, NULL);\n";

  private static final String NOW = "(extract(epoch from clock_timestamp()) * 1000000)::bigint";

  /** The per-key bucket's admission (GCRA, 1 µs apart, as the bench's limited tenant), then the INSERT. */
  private static final String ADMIT =
      "BEGIN;\n"
          + "INSERT INTO rate_limits (bucket, tat) VALUES ('key_pgbench', " + NOW + " + 1) ON CONFLICT (bucket) DO UPDATE"
          + " SET tat = GREATEST(rate_limits.tat, " + NOW + ") + 1"
          + " WHERE GREATEST(rate_limits.tat, " + NOW + ") + 1 - " + NOW + " <= 60000000;\n"
          + "SELECT tat FROM rate_limits WHERE bucket = 'key_pgbench';\n"
          + "COMMIT;\n";

  /** The month's row of the quota tenant, charged in the redeem's transaction. */
  private static final String CHARGE =
      "INSERT INTO tenant_usage (tenant_id, month, redemptions) VALUES ('pgbench', '2026-01', 0) ON CONFLICT DO NOTHING;\n"
          + "UPDATE tenant_usage SET redemptions = redemptions + 1 WHERE tenant_id = 'pgbench' AND month = '2026-01'"
          + " AND redemptions < 1000000000000;\n";

  private static final String REDEEM_SCRIPT =
      "\\set n random(1, " + SESSIONS + ")\n"
          + "SELECT " + COLUMNS + " FROM pgbench_sessions WHERE id = 'ses_' || :n;\n"
          + "UPDATE pgbench_sessions SET uses_remaining = uses_remaining - 1 WHERE id = 'ses_' || :n"
          + " AND uses_remaining > 0 AND revoke_time IS NULL AND expire_time > 1"
          + " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = pgbench_sessions.api_key_id AND k.revoke_time IS NULL)"
          + " RETURNING uses_remaining;\n";

  // pgbench wants its \\set before the first statement when statements are prepared.
  private static final String MINT_LIMITED_SCRIPT =
      INSERT_SCRIPT.substring(0, INSERT_SCRIPT.indexOf('\n') + 1) + ADMIT + INSERT_SCRIPT.substring(INSERT_SCRIPT.indexOf('\n') + 1);

  private static final String REDEEM_QUOTA_SCRIPT =
      "\\set n random(1, " + SESSIONS + ")\n"
          + "SELECT " + COLUMNS + " FROM pgbench_sessions WHERE id = 'ses_' || :n;\n"
          + "BEGIN;\n"
          + "UPDATE pgbench_sessions SET uses_remaining = uses_remaining - 1 WHERE id = 'ses_' || :n"
          + " AND uses_remaining > 0 AND revoke_time IS NULL AND expire_time > 1"
          + " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = pgbench_sessions.api_key_id AND k.revoke_time IS NULL)"
          + " RETURNING uses_remaining;\n"
          + CHARGE
          + "COMMIT;\n";

  private PgbenchReference() {}

  /**
   * Runs both scripts for {@code seconds} each with {@code clients} connections (the server's
   * pool size) and returns transactions per second by name, or an empty map without pgbench.
   */
  static Map<String, Double> measure(String jdbcUrl, int clients, int seconds) throws IOException, InterruptedException {
    Map<String, Double> tps = new LinkedHashMap<>();
    if (!onPath("pgbench")) {
      System.out.println("   pgbench is not installed: no PostgreSQL reference in this run");
      return tps;
    }
    prepare(jdbcUrl);
    Path dir = Files.createTempDirectory("ta-pgbench-");
    Path insert = Files.writeString(dir.resolve("insert.sql"), INSERT_SCRIPT, StandardCharsets.UTF_8);
    Path redeem = Files.writeString(dir.resolve("redeem.sql"), REDEEM_SCRIPT, StandardCharsets.UTF_8);
    Path mintLimited = Files.writeString(dir.resolve("mint_limited.sql"), MINT_LIMITED_SCRIPT, StandardCharsets.UTF_8);
    Path redeemQuota = Files.writeString(dir.resolve("redeem_quota.sql"), REDEEM_QUOTA_SCRIPT, StandardCharsets.UTF_8);
    for (Path script : List.of(insert, redeem, mintLimited, redeemQuota)) {
      String name = script.getFileName().toString().replace(".sql", "");
      try {
        tps.put(name, run(jdbcUrl, script, clients, seconds));
      } catch (IllegalStateException e) {
        // One failed reference must not cost the run's other figures.
        System.out.println("   pgbench " + name + " failed: " + e.getMessage());
      }
    }
    return tps;
  }

  /** A copy of the sessions table with {@link #SESSIONS} rows of many uses, and the key they name. */
  private static void prepare(String jdbcUrl) {
    try (Connection c = DriverManager.getConnection(jdbcUrl);
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS pgbench_sessions");
      s.execute("CREATE TABLE pgbench_sessions (LIKE sessions INCLUDING ALL) WITH (fillfactor = 80)");
      s.execute("INSERT INTO api_keys (id, tenant_id, name, scopes, allowed_origins, secret_hash, hint, create_time)"
          + " VALUES ('key_pgbench', 'default', 'pgbench', 'sessions:mint', '', '\\x01'::bytea, '', 0)"
          + " ON CONFLICT DO NOTHING");
      s.execute("INSERT INTO pgbench_sessions (" + COLUMNS + ") SELECT 'ses_' || g, 'default', 'key_pgbench',"
          + " 'user_' || g, '', '', '', '', NULL, '\\x00'::bytea, 1, 9999999999999, 1000000000, 1000000000, NULL"
          + " FROM generate_series(1, " + SESSIONS + ") g");
      s.execute("VACUUM ANALYZE pgbench_sessions");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot prepare the pgbench tables: " + e.getMessage(), e);
    }
  }

  private static double run(String jdbcUrl, Path script, int clients, int seconds) throws IOException, InterruptedException {
    URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
    String user = queryParameter(uri, "user");
    List<String> command = new ArrayList<>(List.of("pgbench", "-n", "-M", "prepared", "-c", String.valueOf(clients),
        "-j", "2", "-T", String.valueOf(seconds), "-f", script.toString(), "-h", uri.getHost(),
        "-p", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort())));
    if (user != null) {
      command.addAll(List.of("-U", user));
    }
    command.add(uri.getPath().substring(1));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("pgbench failed:\n" + out);
    }
    Matcher m = TPS.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("no tps in pgbench's output:\n" + out);
    }
    double tps = Double.parseDouble(m.group(1));
    System.out.printf(java.util.Locale.ROOT, "   pgbench %-10s %,10.0f tps (%d clients)%n",
        script.getFileName().toString().replace(".sql", ""), tps, clients);
    return tps;
  }

  private static String queryParameter(URI uri, String name) {
    if (uri.getQuery() == null) {
      return null;
    }
    for (String pair : uri.getQuery().split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return pair.substring(eq + 1);
      }
    }
    return null;
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
