package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.ratelimit.RateLimitStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Rate-limit buckets in the {@code rate_limits} table, committed without waiting for a WAL
 * flush. Alone, an admission is one upsert; on PostgreSQL under load, the admissions waiting at
 * that moment go in one statement that takes as many of each bucket's calls as its allowance
 * holds, under the bucket row's lock, as if they had come one after the other.
 */
final class JdbcRateLimitStore implements RateLimitStore {
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

  /**
   * Gcra.admit for n calls of each bucket at once (PostgreSQL): the buckets' rows are locked in
   * the order of their names (so two groups, of this or another replica, never wait on each
   * other in a cycle) and read as the lock found them; k = min(n, (period - base + now) /
   * interval) calls are admitted, where base = max(tat, now), and tat moves to base + k *
   * interval. A bucket without a row is not in the answer.
   */
  private static final String ADMIT_MANY =
      "WITH q AS (SELECT * FROM unnest(?::text[], ?::int8[], ?::int8[], ?::int8[], ?::int8[])"
          + " AS q(bucket, n, iv, period, now)),"
          + " cur AS (SELECT r.bucket, r.tat FROM rate_limits r WHERE r.bucket IN (SELECT bucket COLLATE \"C\" FROM q)"
          + " ORDER BY r.bucket FOR UPDATE),"
          + " calc AS (SELECT cur.bucket, GREATEST(cur.tat, q.now) AS base, q.iv,"
          + " LEAST(q.n, GREATEST(0, (q.period - GREATEST(cur.tat, q.now) + q.now) / q.iv)) AS k"
          + " FROM cur JOIN q ON q.bucket COLLATE \"C\" = cur.bucket),"
          + " moved AS (UPDATE rate_limits r SET tat = calc.base + calc.k * calc.iv FROM calc"
          + " WHERE r.bucket = calc.bucket AND calc.k > 0)"
          + " SELECT bucket, k, base + k * iv FROM calc";

  /** Rows for buckets a group found absent; their tat of 0 means full, as an absent row does. */
  private static final String CREATE_MANY =
      "INSERT INTO rate_limits (bucket, tat) SELECT unnest(?::text[]), 0 ON CONFLICT (bucket) DO NOTHING";

  /**
   * A purge batch: the next full buckets by name (the primary key: no index on tat, which every
   * admission moves), deleted only if still full. Shared by replicas (PostgreSQL): the rows are
   * locked as they are picked, skipping any an admission holds, so that the purge never waits
   * for an admission nor an admission for the purge (an admission group locks in name order
   * too), and a row admitted while the purge looked is re-checked, never deleted.
   */
  private static final String PURGE_SHARED =
      "WITH picked AS (SELECT bucket FROM rate_limits WHERE bucket > ? AND tat < ? ORDER BY bucket LIMIT ?"
          + " FOR UPDATE SKIP LOCKED)"
          + " DELETE FROM rate_limits r USING picked WHERE r.bucket = picked.bucket AND r.tat < ? RETURNING r.bucket";

  /** The same with one writer (SQLite): nothing can change a row between the pick and the delete. */
  private static final String PURGE_ONE_WRITER =
      "DELETE FROM rate_limits WHERE bucket IN"
          + " (SELECT bucket FROM rate_limits WHERE bucket > ? AND tat < ? ORDER BY bucket LIMIT ?) AND tat < ?"
          + " RETURNING bucket";

  /** One call's admission to take. */
  private record Admission(String bucket, long intervalMicros, long periodMicros, long nowMicros) {}

  private final Database db;
  private final Database.Batch<Admission, Long> admissions;
  private final Database.Batch<String, Long> peeks;

  JdbcRateLimitStore(Database db) {
    this.db = db;
    this.admissions = db.unflushedBatch(JdbcRateLimitStore::admitOne, JdbcRateLimitStore::admitMany);
    this.peeks = db.readBatch(JdbcRateLimitStore::peekOne, (s, buckets) -> {
      // Rare (the headers of a refused call): not worth a statement of its own.
      List<Long> tats = new ArrayList<>(buckets.size());
      for (String bucket : buckets) {
        tats.add(peekOne(s, bucket));
      }
      return tats;
    });
  }

  @Override
  public CompletableFuture<Long> peekRateLimited(String bucket) {
    return peeks.submit(bucket);
  }

  private static Long peekOne(Database.Statements s, String bucket) throws SQLException {
    PreparedStatement read = s.prepare("SELECT tat FROM rate_limits WHERE bucket = ?");
    read.setString(1, bucket);
    try (ResultSet rs = read.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0L;
    }
  }

  @Override
  public CompletableFuture<Long> admitRateLimited(String bucket, long intervalMicros, long periodMicros, long nowMicros) {
    return admissions.submit(new Admission(bucket, intervalMicros, periodMicros, nowMicros));
  }

  private static Long admitOne(Database.Statements s, Admission a) throws SQLException {
    PreparedStatement admit = s.prepare(ADMIT);
    admit.setString(1, a.bucket());
    admit.setLong(2, a.nowMicros() + a.intervalMicros());
    admit.setLong(3, a.nowMicros());
    admit.setLong(4, a.nowMicros());
    admit.setLong(5, a.intervalMicros());
    admit.setLong(6, a.nowMicros());
    admit.setLong(7, a.nowMicros());
    admit.setLong(8, a.intervalMicros());
    admit.setLong(9, a.nowMicros());
    admit.setLong(10, a.periodMicros());
    try (ResultSet rs = admit.executeQuery()) {
      if (rs.next()) {
        return rs.getLong(1);
      }
    }
    // Refused: only now is the bucket read, to say when it admits again.
    return -peekOne(s, a.bucket());
  }

  /**
   * The group's admissions: each bucket's calls in the order they came, at the latest of their
   * instants. Buckets without a row get one, then go again; a call whose bucket is asked with
   * another limit in the same group (its policy just changed) goes in the next statement
   * ({@link KeyedRowGroups}).
   */
  private static List<Long> admitMany(Database.Statements s, List<Admission> items) throws SQLException {
    return KeyedRowGroups.run(
        new Long[items.size()],
        (open, results) -> admitPass(s, items, open, results),
        open -> {
          // A tat of 0 is full, as no row is.
          PreparedStatement create = s.prepare(CREATE_MANY);
          create.setArray(1, s.array("text", open.stream().map(i -> items.get(i).bucket()).distinct().toArray()));
          create.executeUpdate();
        },
        i -> admitOne(s, items.get(i)));
  }

  /**
   * One statement over the open calls: each bucket's calls in the order they came, at the latest
   * of their instants. Returns the calls still open: those whose bucket has no row, and those
   * whose bucket is asked with another limit in this group (its policy just changed).
   */
  private static List<Integer> admitPass(
      Database.Statements s, List<Admission> items, List<Integer> open, Long[] results) throws SQLException {
    Map<String, List<Integer>> byBucket = new TreeMap<>();
    List<Integer> later = new ArrayList<>();
    for (int i : open) {
      Admission a = items.get(i);
      List<Integer> same = byBucket.computeIfAbsent(a.bucket(), k -> new ArrayList<>());
      if (same.isEmpty() || sameLimit(items.get(same.get(0)), a)) {
        same.add(i);
      } else {
        later.add(i);
      }
    }
    Map<String, long[]> taken = takeMany(s, items, byBucket);
    for (Map.Entry<String, List<Integer>> e : byBucket.entrySet()) {
      long[] kAndTat = taken.get(e.getKey());
      List<Integer> calls = e.getValue();
      if (kAndTat == null) {
        later.addAll(calls);
        continue;
      }
      long k = kAndTat[0];
      long tat = kAndTat[1];
      long interval = items.get(calls.get(0)).intervalMicros();
      for (int c = 0; c < calls.size(); c++) {
        results[calls.get(c)] = c < k ? tat - (k - 1 - c) * interval : -tat;
      }
    }
    later.sort(null);
    return later;
  }

  private static boolean sameLimit(Admission a, Admission b) {
    return a.intervalMicros() == b.intervalMicros() && a.periodMicros() == b.periodMicros();
  }

  /** Runs {@link #ADMIT_MANY}: bucket -> {calls admitted, tat after}, for the buckets that have a row. */
  private static Map<String, long[]> takeMany(Database.Statements s, List<Admission> items, Map<String, List<Integer>> byBucket)
      throws SQLException {
    int n = byBucket.size();
    Object[] buckets = new Object[n];
    Object[] counts = new Object[n];
    Object[] intervals = new Object[n];
    Object[] periods = new Object[n];
    Object[] nows = new Object[n];
    int b = 0;
    for (Map.Entry<String, List<Integer>> e : byBucket.entrySet()) {
      long now = 0;
      for (int i : e.getValue()) {
        now = Math.max(now, items.get(i).nowMicros());
      }
      Admission first = items.get(e.getValue().get(0));
      buckets[b] = e.getKey();
      counts[b] = (long) e.getValue().size();
      intervals[b] = first.intervalMicros();
      periods[b] = first.periodMicros();
      nows[b] = now;
      b++;
    }
    PreparedStatement ps = s.prepare(ADMIT_MANY);
    ps.setArray(1, s.array("text", buckets));
    ps.setArray(2, s.array("int8", counts));
    ps.setArray(3, s.array("int8", intervals));
    ps.setArray(4, s.array("int8", periods));
    ps.setArray(5, s.array("int8", nows));
    Map<String, long[]> taken = new HashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        taken.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
      }
    }
    return taken;
  }

  @Override
  public CompletableFuture<Void> refundRateLimited(String bucket, long intervalMicros) {
    return db.writeUnflushedStatementAsync(s -> {
      PreparedStatement refund = s.prepare("UPDATE rate_limits SET tat = tat - ? WHERE bucket = ?");
      refund.setLong(1, intervalMicros);
      refund.setString(2, bucket);
      refund.executeUpdate();
      return null;
    });
  }

  @Override
  public List<String> purgeRateLimits(long nowMicros, String afterBucket, int limit) {
    return db.write(
        s -> {
          PreparedStatement ps = s.prepare(db.writesThroughOneConnection() ? PURGE_ONE_WRITER : PURGE_SHARED);
          ps.setString(1, afterBucket);
          ps.setLong(2, nowMicros);
          ps.setInt(3, limit);
          ps.setLong(4, nowMicros);
          List<String> deleted = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              deleted.add(rs.getString(1));
            }
          }
          deleted.sort(null);
          return deleted;
        });
  }
}
