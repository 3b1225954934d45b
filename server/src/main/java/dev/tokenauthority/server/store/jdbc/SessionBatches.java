package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore.ConsumeResult;
import dev.tokenauthority.server.session.SessionStore.Outcome;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.session.SessionStore.RedeemCheck;
import dev.tokenauthority.server.session.SessionStore.Redemption;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.error.StoreUnavailableException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The statements on a mint's and a redeem's path: inserting a session, finding one by id, and
 * consuming one use (and charging the tenant's quota). Each is a {@link Database#batch} or
 * {@link Database#readBatch}: alone, the portable statement of one row; on PostgreSQL under
 * load, one statement over the rows of many calls (arrays through {@code unnest} or
 * {@code = ANY}), so that a round trip, and for writes a WAL flush, carry them all. Single use
 * stays one conditional UPDATE per row; a quota is counted beside the use, by
 * {@link QuotaCharges}, except in SQLite's redeem in one write, where it joins the use. SQLite's
 * redeems that fall into one of its writer's transactions read their rows with one statement
 * and take their uses with another ({@link Database#writerGroup}).
 */
final class SessionBatches {
  private static final Logger log = LoggerFactory.getLogger(SessionBatches.class);
  static final String SESSION_COLUMNS =
      "id, tenant_id, api_key_id, external_user_id, external_group_id, audience, scopes, origin, context,"
          + " token_hash, issue_time, expire_time, max_uses, uses_remaining, revoke_time";

  private static final String INSERT_ONE =
      "INSERT INTO sessions (" + SESSION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  /** Many rows in one statement: the same SQL whatever their number, so it stays prepared. */
  private static final String INSERT_MANY =
      "INSERT INTO sessions (" + SESSION_COLUMNS + ") SELECT id, tenant_id, api_key_id, external_user_id,"
          + " external_group_id, audience, scopes, origin, NULLIF(context, ''::bytea), token_hash, issue_time,"
          + " expire_time, max_uses, uses_remaining, revoke_time FROM unnest(?::text[], ?::text[], ?::text[],"
          + " ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bytea[], ?::bytea[], ?::int8[], ?::int8[],"
          + " ?::int4[], ?::int4[], ?::int8[]) AS v(" + SESSION_COLUMNS + ")";

  /** The one conditional write of a redeem, reporting what is left when it took a use. */
  private static final String CONSUME_ONE =
      "UPDATE sessions SET uses_remaining = uses_remaining - 1 WHERE id = ? AND " + takeable("?") + " RETURNING uses_remaining";

  /** The same conditions, for distinct ids each with its own instant. */
  private static final String CONSUME_MANY =
      "UPDATE sessions SET uses_remaining = sessions.uses_remaining - 1"
          + " FROM unnest(?::text[], ?::int8[]) AS v(id, now)"
          + " WHERE sessions.id = v.id COLLATE \"C\" AND " + takeable("v.now")
          + " RETURNING sessions.id, sessions.uses_remaining";

  private static final String FIND_ONE = "SELECT " + SESSION_COLUMNS + " FROM sessions WHERE id = ?";
  private static final String FIND_MANY = "SELECT " + SESSION_COLUMNS + " FROM sessions WHERE id = ANY(?)";

  /** Ids per grouped SQLite statement at most, so that a few dozen statements cover every group size. */
  private static final int MAX_GROUP = 32;

  /** The sessions of n ids, at n - 1, for SQLite's grouped redeems: one SQL text per size, so each stays prepared. */
  private static final List<String> FIND_GROUP =
      bySize(n -> "SELECT " + SESSION_COLUMNS + " FROM sessions WHERE id IN (" + placeholders("?", n) + ")");

  /** {@link #CONSUME_ONE} for n distinct ids, each with its own instant, at n - 1, in SQLite's SQL. */
  private static final List<String> TAKE_GROUP =
      bySize(
          n -> "WITH v(id, at) AS (VALUES " + placeholders("(?, ?)", n) + ")"
              + " UPDATE sessions SET uses_remaining = sessions.uses_remaining - 1 FROM v"
              + " WHERE sessions.id = v.id AND " + takeable("v.at")
              + " RETURNING sessions.id, sessions.uses_remaining");

  /**
   * Whether a use of a session may be taken at {@code now} (an SQL expression): it has a use
   * left, is neither revoked nor expired, and the key that minted it is not revoked. Single use
   * rests on this condition inside an UPDATE; every statement that takes a use states it here.
   */
  private static String takeable(String now) {
    return "sessions.uses_remaining > 0 AND sessions.revoke_time IS NULL AND sessions.expire_time > " + now
        + " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = sessions.api_key_id AND k.revoke_time IS NULL)";
  }

  /** n {@code placeholder}s, comma separated. */
  private static String placeholders(String placeholder, int n) {
    return String.join(", ", Collections.nCopies(n, placeholder));
  }

  /** The SQL for each group size from 1 to {@link #MAX_GROUP}, at size - 1. */
  private static List<String> bySize(IntFunction<String> sql) {
    return IntStream.rangeClosed(1, MAX_GROUP).mapToObj(sql).toList();
  }

  /** One use of a session to take at an instant. */
  record Consume(String id, Instant now) {}

  /** A redeem made in one write: the session, the token's digest, the check, and what to charge. */
  private record Redeem(String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {}

  private final Database db;
  private final Database.Batch<String, Optional<Session>> finds;
  private final Database.Batch<Session, Void> inserts;
  private final Database.Batch<Consume, ConsumeResult> consumes;
  private final Database.Batch<Redeem, Redemption> redeems;
  private final QuotaCharges quotas;

  SessionBatches(Database db) {
    this.finds = db.readBatch(SessionBatches::findOne, SessionBatches::findMany);
    this.db = db;
    this.inserts = db.batch(true, SessionBatches::insertOne, SessionBatches::insertMany);
    this.consumes = db.batch(true, SessionBatches::consumeOne, SessionBatches::consumeMany);
    this.redeems = db.writerGroup(SessionBatches::redeemOne, SessionBatches::redeemMany);
    this.quotas = new QuotaCharges(db);
  }

  CompletableFuture<Optional<Session>> find(String id) {
    return finds.submit(id);
  }

  /**
   * A redeem as one write ({@link Database#writesThroughOneConnection}): the row is read,
   * checked and its use taken in the transaction that commits it. A refusal of the check is this
   * write's result, not a failure, so that it never rolls back the writes committed with it.
   */
  CompletableFuture<Redemption> redeemInOneWrite(String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {
    return redeems.submit(new Redeem(id, tokenHash, check, now, quota));
  }

  /** A redeem alone, in its write. */
  private static Redemption redeemOne(Database.Statements s, Redeem r) throws SQLException {
    Optional<Session> found = ifTokenMatches(findOne(s, r.id()), r.tokenHash());
    Redemption stopped = Redemption.stoppedBeforeConsume(found, r.check());
    return stopped != null ? stopped : Redemption.consumed(found.get(), consumeAndCharge(s, new Consume(r.id(), r.now()), r.quota()));
  }

  /**
   * The redeems that fell into one write, as {@link #redeemOne} would make them one after the
   * other, with a statement for the group where {@link #redeemOne} has one for each: their rows
   * are read by one statement, each is checked, then the first redeem of each session that
   * passed takes its use in one conditional UPDATE with the others', and a second redeem of a
   * session in the group takes its use after them, alone. Rows are read before any use is
   * taken, so such a second redeem is checked against the row as it was, and its use refused by
   * the UPDATE as it would have been alone. Quotas are counted in the order of the redeems.
   */
  private static List<Redemption> redeemMany(Database.Statements s, List<Redeem> items) throws SQLException {
    Map<String, Session> rows = findGroup(s, items);
    Redemption[] out = new Redemption[items.size()];
    Map<String, Integer> first = new LinkedHashMap<>();
    List<Integer> repeats = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Redeem r = items.get(i);
      Optional<Session> found = ifTokenMatches(Optional.ofNullable(rows.get(r.id())), r.tokenHash());
      Redemption stopped = Redemption.stoppedBeforeConsume(found, r.check());
      if (stopped != null) {
        out[i] = stopped;
      } else if (first.putIfAbsent(r.id(), i) != null) {
        repeats.add(i);
      }
    }
    Map<String, Integer> left = takeUses(s, first.values().stream().map(items::get).toList());
    for (int i : first.values()) {
      Redeem r = items.get(i);
      ConsumeResult taken = takenOrWhyNot(s, r.id(), r.now(), left.get(r.id()));
      out[i] = Redemption.consumed(rows.get(r.id()), charged(s, r.id(), taken, r.quota()));
    }
    for (int i : repeats) {
      Redeem r = items.get(i);
      out[i] = Redemption.consumed(rows.get(r.id()), consumeAndCharge(s, new Consume(r.id(), r.now()), r.quota()));
    }
    return Arrays.asList(out);
  }

  /** The rows of the redeems' sessions, by id, read by a statement per {@link #MAX_GROUP} of them. */
  private static Map<String, Session> findGroup(Database.Statements s, List<Redeem> items) throws SQLException {
    Map<String, Session> rows = new HashMap<>();
    for (int from = 0; from < items.size(); from += MAX_GROUP) {
      List<Redeem> chunk = items.subList(from, Math.min(items.size(), from + MAX_GROUP));
      PreparedStatement ps = s.prepare(FIND_GROUP.get(chunk.size() - 1));
      for (int i = 0; i < chunk.size(); i++) {
        ps.setString(i + 1, chunk.get(i).id());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Session session = session(rs);
          rows.put(session.id(), session);
        }
      }
    }
    return rows;
  }

  /**
   * Takes one use of each redeem's session (distinct ids), each at its own instant, by a
   * conditional UPDATE per {@link #MAX_GROUP} of them; the uses left of those taken, by id.
   */
  private static Map<String, Integer> takeUses(Database.Statements s, List<Redeem> items) throws SQLException {
    Map<String, Integer> left = new HashMap<>();
    for (int from = 0; from < items.size(); from += MAX_GROUP) {
      List<Redeem> chunk = items.subList(from, Math.min(items.size(), from + MAX_GROUP));
      PreparedStatement ps = s.prepare(TAKE_GROUP.get(chunk.size() - 1));
      for (int i = 0; i < chunk.size(); i++) {
        ps.setString(2 * i + 1, chunk.get(i).id());
        ps.setLong(2 * i + 2, chunk.get(i).now().toEpochMilli());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          left.put(rs.getString(1), rs.getInt(2));
        }
      }
    }
    return left;
  }

  /** The session found, if the token presented hashes to its stored digest (compared in constant time). */
  static Optional<Session> ifTokenMatches(Optional<Session> found, SecretHash tokenHash) {
    return found.filter(session -> session.tokenHash().equals(tokenHash));
  }

  static Optional<Session> findOne(Database.Statements s, String id) throws SQLException {
    PreparedStatement ps = s.prepare(FIND_ONE);
    ps.setString(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(session(rs)) : Optional.empty();
    }
  }

  private static List<Optional<Session>> findMany(Database.Statements s, List<String> ids) throws SQLException {
    PreparedStatement ps = s.prepare(FIND_MANY);
    ps.setArray(1, s.array("text", ids.toArray(new String[0])));
    Map<String, Session> found = new HashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Session session = session(rs);
        found.put(session.id(), session);
      }
    }
    List<Optional<Session>> out = new ArrayList<>(ids.size());
    for (String id : ids) {
      out.add(Optional.ofNullable(found.get(id)));
    }
    return out;
  }

  /** The session of a row of {@link #SESSION_COLUMNS}. */
  static Session session(ResultSet rs) throws SQLException {
    byte[] context = rs.getBytes(9);
    return new Session(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        JdbcValues.split(rs.getString(7)),
        rs.getString(8),
        context == null ? new byte[0] : context,
        SecretHash.fromDigest(rs.getBytes(10)),
        Instant.ofEpochMilli(rs.getLong(11)),
        Instant.ofEpochMilli(rs.getLong(12)),
        rs.getInt(13),
        rs.getInt(14),
        JdbcValues.getTime(rs, 15));
  }

  CompletableFuture<Void> insert(Session session) {
    return inserts.submit(session);
  }

  /**
   * Takes one use (a durable commit) and, with a quota, counts it at the same time
   * ({@link QuotaCharges}, not waiting for a flush), so that the count adds no round trip to a
   * redeem and a tenant's redeems never queue on its month's row across a WAL flush. Whichever
   * half did not hold is undone before the call is answered: a use the month had no room for is
   * given back, the count of a use that could not be taken is taken back. An undo lost in a
   * crash leaves a session one use short or a month one redeem over, never the other way. With
   * one writer ({@link Database#writesThroughOneConnection}) the two are one write.
   */
  CompletableFuture<ConsumeResult> consume(String id, Instant now, QuotaCharge quota) {
    if (quota != null && db.writesThroughOneConnection()) {
      return db.writeAsync(s -> consumeAndCharge(s, new Consume(id, now), quota));
    }
    CompletableFuture<ConsumeResult> taking = consumes.submit(new Consume(id, now));
    if (quota == null) {
      return taking;
    }
    CompletableFuture<Boolean> counting = quotas.charge(quota);
    return taking
        .handle((taken, notTaken) -> counting.handle((counted, notCounted) -> settle(id, quota, taken, notTaken, counted, notCounted)))
        .thenCompose(settling -> settling)
        .thenCompose(answer -> answer);
  }

  /** The answer to a use and its count made side by side, once the half that did not hold is undone. */
  private CompletableFuture<ConsumeResult> settle(
      String id, QuotaCharge quota, ConsumeResult taken, Throwable notTaken, Boolean counted, Throwable notCounted) {
    boolean used = notTaken == null && taken.outcome() == Outcome.CONSUMED;
    boolean wasCounted = notCounted == null && counted;
    if (used && wasCounted) {
      return CompletableFuture.completedFuture(taken);
    }
    Throwable failure = notTaken != null ? notTaken : used ? notCounted : null;
    // A give-back behind a failure answer must outlive a crash of the database: the answer will
    // promise that nothing was taken. Behind QUOTA_EXCEEDED it may be lost like the count was.
    CompletableFuture<Void> undo =
        used && failure != null ? db.writeStatementAsync(s -> giveBack(s, id))
            : used ? db.writeUnflushedStatementAsync(s -> giveBack(s, id))
            : wasCounted ? quotas.uncharge(quota)
            : CompletableFuture.completedFuture(null);
    // An undo that fails leaves the conservative state (a use short, a count over): the answer
    // stands, except that a failure must then not say the use was not taken.
    return undo.handle(
        (v, e) -> {
          Throwable answer = failure;
          if (e != null) {
            log.warn("undoing a quota redeem's {} failed, left {} (tenant {}, month {}): {}",
                used ? "use" : "count", used ? "a session one use short" : "the month one count over",
                quota.tenantId(), quota.month(), Completions.unwrap(e).getMessage());
            Throwable cause = Completions.unwrap(failure);
            boolean saysUnknown = cause instanceof StoreUnavailableException u && u.commitUnknown();
            if (used && cause != null && !saysUnknown) {
              // Any other failure answer would say, or let a client assume, that the use was not
              // taken and a retry is safe: not so.
              answer = StoreUnavailableException.commitUnknown(
                  "the session's use was taken, its quota count failed and giving the use back failed too: " + cause.getMessage(),
                  cause);
            }
          }
          if (answer != null) {
            throw answer instanceof CompletionException c ? c : new CompletionException(answer);
          }
          return used ? ConsumeResult.refused(Outcome.QUOTA_EXCEEDED) : taken;
        });
  }

  private static Void insertOne(Database.Statements s, Session x) throws SQLException {
    PreparedStatement ps = s.prepare(INSERT_ONE);
    ps.setString(1, x.id());
    ps.setString(2, x.tenantId());
    ps.setString(3, x.apiKeyId());
    ps.setString(4, x.externalUserId());
    ps.setString(5, x.externalGroupId());
    ps.setString(6, x.audience());
    ps.setString(7, JdbcValues.join(x.scopes()));
    ps.setString(8, x.origin());
    if (x.context().length == 0) {
      ps.setNull(9, Types.BINARY);
    } else {
      ps.setBytes(9, x.context());
    }
    ps.setBytes(10, x.tokenHash().digest());
    ps.setLong(11, x.issueTime().toEpochMilli());
    ps.setLong(12, x.expireTime().toEpochMilli());
    ps.setInt(13, x.maxUses());
    ps.setInt(14, x.usesRemaining());
    JdbcValues.setTime(ps, 15, x.revokeTime());
    ps.executeUpdate();
    return null;
  }

  private static List<Void> insertMany(Database.Statements s, List<Session> sessions) throws SQLException {
    int n = sessions.size();
    String[][] text = new String[8][n];
    byte[][] context = new byte[n][];
    byte[][] hash = new byte[n][];
    Long[] issue = new Long[n];
    Long[] expire = new Long[n];
    Integer[] maxUses = new Integer[n];
    Integer[] usesRemaining = new Integer[n];
    Long[] revoke = new Long[n];
    for (int i = 0; i < n; i++) {
      Session x = sessions.get(i);
      text[0][i] = x.id();
      text[1][i] = x.tenantId();
      text[2][i] = x.apiKeyId();
      text[3][i] = x.externalUserId();
      text[4][i] = x.externalGroupId();
      text[5][i] = x.audience();
      text[6][i] = JdbcValues.join(x.scopes());
      text[7][i] = x.origin();
      context[i] = x.context();
      hash[i] = x.tokenHash().digest();
      issue[i] = x.issueTime().toEpochMilli();
      expire[i] = x.expireTime().toEpochMilli();
      maxUses[i] = x.maxUses();
      usesRemaining[i] = x.usesRemaining();
      revoke[i] = x.revokeTime() == null ? null : x.revokeTime().toEpochMilli();
    }
    PreparedStatement ps = s.prepare(INSERT_MANY);
    for (int c = 0; c < 8; c++) {
      ps.setArray(c + 1, s.array("text", text[c]));
    }
    ps.setArray(9, s.array("bytea", context));
    ps.setArray(10, s.array("bytea", hash));
    ps.setArray(11, s.array("int8", issue));
    ps.setArray(12, s.array("int8", expire));
    ps.setArray(13, s.array("int4", maxUses));
    ps.setArray(14, s.array("int4", usesRemaining));
    ps.setArray(15, s.array("int8", revoke));
    ps.executeUpdate();
    return Arrays.asList(new Void[n]);
  }

  /** A use alone: the conditional UPDATE. */
  private static ConsumeResult consumeOne(Database.Statements s, Consume c) throws SQLException {
    int remaining = takeUse(s, c.id(), c.now());
    return takenOrWhyNot(s, c.id(), c.now(), remaining < 0 ? null : remaining);
  }

  /** A use taken, with the uses left after it, or (remaining null) the reason none was taken. */
  private static ConsumeResult takenOrWhyNot(Database.Statements s, String id, Instant now, Integer remaining) throws SQLException {
    return remaining != null ? ConsumeResult.consumed(remaining) : ConsumeResult.refused(whyNotConsumed(s, id, now));
  }

  /** A use and, with a quota, its count, in the caller's transaction (one writer: SQLite). */
  private static ConsumeResult consumeAndCharge(Database.Statements s, Consume c, QuotaCharge quota) throws SQLException {
    return charged(s, c.id(), consumeOne(s, c), quota);
  }

  /** A use just taken, counted against the quota if there is one; given back when the month has no room. */
  private static ConsumeResult charged(Database.Statements s, String id, ConsumeResult taken, QuotaCharge quota) throws SQLException {
    if (quota != null && taken.outcome() == Outcome.CONSUMED && !QuotaCharges.chargeOne(s, quota)) {
      giveBack(s, id);
      return ConsumeResult.refused(Outcome.QUOTA_EXCEEDED);
    }
    return taken;
  }

  /**
   * Uses of many sessions in one transaction: one UPDATE over the distinct ids (in id order, so
   * that concurrent groups lock rows in the same order), then the rare second use of an id in
   * the group on its own.
   */
  private static List<ConsumeResult> consumeMany(Database.Statements s, List<Consume> items) throws SQLException {
    ConsumeResult[] results = new ConsumeResult[items.size()];
    Map<String, Integer> first = new HashMap<>();
    List<Integer> repeats = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (first.putIfAbsent(items.get(i).id(), i) != null) {
        repeats.add(i);
      }
    }
    List<Integer> distinct = new ArrayList<>(first.values());
    distinct.sort((a, b) -> items.get(a).id().compareTo(items.get(b).id()));
    String[] ids = new String[distinct.size()];
    Long[] nows = new Long[distinct.size()];
    for (int k = 0; k < ids.length; k++) {
      Consume c = items.get(distinct.get(k));
      ids[k] = c.id();
      nows[k] = c.now().toEpochMilli();
    }
    PreparedStatement update = s.prepare(CONSUME_MANY);
    update.setArray(1, s.array("text", ids));
    update.setArray(2, s.array("int8", nows));
    Map<String, Integer> left = new HashMap<>();
    try (ResultSet rs = update.executeQuery()) {
      while (rs.next()) {
        left.put(rs.getString(1), rs.getInt(2));
      }
    }
    for (int i : distinct) {
      Consume c = items.get(i);
      results[i] = takenOrWhyNot(s, c.id(), c.now(), left.get(c.id()));
    }
    for (int i : repeats) {
      results[i] = consumeOne(s, items.get(i));
    }
    return Arrays.asList(results);
  }

  /** Takes one use; returns the uses left after it, or -1 when none was taken. */
  private static int takeUse(Database.Statements s, String id, Instant now) throws SQLException {
    PreparedStatement update = s.prepare(CONSUME_ONE);
    update.setString(1, id);
    update.setLong(2, now.toEpochMilli());
    try (ResultSet rs = update.executeQuery()) {
      return rs.next() ? rs.getInt(1) : -1;
    }
  }

  private static Void giveBack(Database.Statements s, String id) throws SQLException {
    PreparedStatement undo = s.prepare("UPDATE sessions SET uses_remaining = uses_remaining + 1 WHERE id = ?");
    undo.setString(1, id);
    undo.executeUpdate();
    return null;
  }

  /** Why a session's use was not taken. */
  private static Outcome whyNotConsumed(Database.Statements s, String id, Instant now) throws SQLException {
    PreparedStatement read =
        s.prepare(
            "SELECT s.uses_remaining, s.revoke_time, s.expire_time, k.revoke_time, k.id FROM sessions s"
                + " LEFT JOIN api_keys k ON k.id = s.api_key_id WHERE s.id = ?");
    read.setString(1, id);
    try (ResultSet rs = read.executeQuery()) {
      if (!rs.next()) {
        return Outcome.NOT_FOUND;
      }
      rs.getLong(2);
      boolean sessionRevoked = !rs.wasNull();
      long expire = rs.getLong(3);
      rs.getLong(4);
      // A minting key that is revoked, or missing altogether, revokes the session.
      boolean keyRevoked = !rs.wasNull() || rs.getString(5) == null;
      if (sessionRevoked || keyRevoked) {
        return Outcome.REVOKED;
      }
      if (expire <= now.toEpochMilli()) {
        return Outcome.EXPIRED;
      }
      return Outcome.ALREADY_USED;
    }
  }
}
