package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.ratelimit.RateLimitStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;

/** Rate-limit buckets in the {@code rate_limits} table, one unflushed upsert per admission. */
final class JdbcRateLimitStore implements RateLimitStore {
  private final Database db;

  JdbcRateLimitStore(Database db) {
    this.db = db;
  }

  /**
   * Gcra.admit as one upsert: a new bucket admits; an existing one only if
   * max(tat, now) + interval - now <= period, in which case tat moves to that sum. Committed
   * without waiting for a WAL flush: the row lock keeps it exact across replicas and is held for
   * the statement alone; a crash of the database may forget the last fraction of a second of
   * admissions (docs/design.md).
   */
  private static final String ADMIT =
      "INSERT INTO rate_limits (bucket, tat) VALUES (?, ?) ON CONFLICT (bucket) DO UPDATE"
          + " SET tat = (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ?"
          + " WHERE (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ? - ? <= ?"
          + " RETURNING tat";

  @Override
  public CompletableFuture<Long> admitRateLimited(String bucket, long intervalMicros, long periodMicros, long nowMicros) {
    return db.writeUnflushedStatementAsync(
        s -> {
          PreparedStatement admit = s.prepare(ADMIT);
          admit.setString(1, bucket);
          admit.setLong(2, nowMicros + intervalMicros);
          admit.setLong(3, nowMicros);
          admit.setLong(4, nowMicros);
          admit.setLong(5, intervalMicros);
          admit.setLong(6, nowMicros);
          admit.setLong(7, nowMicros);
          admit.setLong(8, intervalMicros);
          admit.setLong(9, nowMicros);
          admit.setLong(10, periodMicros);
          try (ResultSet rs = admit.executeQuery()) {
            if (rs.next()) {
              return rs.getLong(1);
            }
          }
          // Refused: only now is the bucket read, to say when it admits again.
          PreparedStatement read = s.prepare("SELECT tat FROM rate_limits WHERE bucket = ?");
          read.setString(1, bucket);
          try (ResultSet rs = read.executeQuery()) {
            return rs.next() ? -rs.getLong(1) : 0L;
          }
        });
  }

  @Override
  public int purgeRateLimits(long nowMicros) {
    return db.write(
        s -> {
          PreparedStatement ps = s.prepare("DELETE FROM rate_limits WHERE tat < ?");
          ps.setLong(1, nowMicros);
          return ps.executeUpdate();
        });
  }
}
