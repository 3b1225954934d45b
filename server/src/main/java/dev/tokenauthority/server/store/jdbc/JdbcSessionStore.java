package dev.tokenauthority.server.store.jdbc;

import static dev.tokenauthority.server.store.jdbc.JdbcValues.getTime;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.join;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.setTime;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.split;

import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Sessions in the {@code sessions} table, and the monthly redemption counts of {@code tenant_usage}
 * that a redeem charges in the same transaction. Single use rests on one conditional UPDATE per
 * redeem, never a read then a write.
 */
final class JdbcSessionStore implements SessionStore {
  /** The lock that makes replicas on one database purge one at a time ("purge" in ASCII). */
  private static final long PURGE_LOCK = 0x7075726765L;
  private static final String SESSION_COLUMNS =
      "id, tenant_id, api_key_id, external_user_id, external_group_id, audience, scopes, origin, context,"
          + " token_hash, issue_time, expire_time, max_uses, uses_remaining, revoke_time";

  private final Database db;

  JdbcSessionStore(Database db) {
    this.db = db;
  }

  @Override
  public CompletableFuture<Void> insertSession(Session x) {
    return db.writeStatementAsync(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "INSERT INTO sessions (" + SESSION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          ps.setString(1, x.id());
          ps.setString(2, x.tenantId());
          ps.setString(3, x.apiKeyId());
          ps.setString(4, x.externalUserId());
          ps.setString(5, x.externalGroupId());
          ps.setString(6, x.audience());
          ps.setString(7, join(x.scopes()));
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
          setTime(ps, 15, x.revokeTime());
          ps.executeUpdate();
          return null;
        });
  }

  @Override
  public Optional<Session> findSessionForToken(String id, SecretHash tokenHash) {
    return findSession(id).filter(session -> session.tokenHash().equals(tokenHash));
  }

  @Override
  public Optional<Session> findSession(String id) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + SESSION_COLUMNS + " FROM sessions WHERE id = ?");
          ps.setString(1, id);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(session(rs)) : Optional.empty();
          }
        });
  }

  /** The one conditional write of a redeem, reporting what is left when it took a use. */
  private static final String CONSUME =
      "UPDATE sessions SET uses_remaining = uses_remaining - 1"
          + " WHERE id = ? AND uses_remaining > 0 AND revoke_time IS NULL AND expire_time > ?"
          + " AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = sessions.api_key_id AND k.revoke_time IS NULL)"
          + " RETURNING uses_remaining";

  @Override
  public CompletableFuture<ConsumeResult> consumeSessionUse(String id, Instant now, QuotaCharge quota) {
    if (quota == null) {
      // A single statement: the use is taken only if, at this instant, one is left, the session
      // is live and unrevoked, and the key that minted it is not revoked. Only a refusal needs a
      // second statement, to say why.
      return db.writeStatementAsync(s -> {
        int remaining = consume(s, id, now);
        return remaining >= 0 ? ConsumeResult.consumed(remaining) : ConsumeResult.refused(whyNotConsumed(s, id, now));
      });
    }
    return db.writeAsync(
        s -> {
          int remaining = consume(s, id, now);
          if (remaining < 0) {
            return ConsumeResult.refused(whyNotConsumed(s, id, now));
          }
          if (!charge(s, quota)) {
            // Over the quota: give the use back, in the same transaction.
            PreparedStatement undo = s.prepare("UPDATE sessions SET uses_remaining = uses_remaining + 1 WHERE id = ?");
            undo.setString(1, id);
            undo.executeUpdate();
            return ConsumeResult.refused(Outcome.QUOTA_EXCEEDED);
          }
          return ConsumeResult.consumed(remaining);
        });
  }

  /** Takes one use; returns the uses left after it, or -1 when none was taken. */
  private static int consume(Database.Statements s, String id, Instant now) throws SQLException {
    PreparedStatement update = s.prepare(CONSUME);
    update.setString(1, id);
    update.setLong(2, now.toEpochMilli());
    try (ResultSet rs = update.executeQuery()) {
      return rs.next() ? rs.getInt(1) : -1;
    }
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

  /** Counts one redemption unless the month's count has reached the limit; false then. */
  private static boolean charge(Database.Statements s, QuotaCharge quota) throws SQLException {
    PreparedStatement ensure =
        s.prepare("INSERT INTO tenant_usage (tenant_id, month, redemptions) VALUES (?, ?, 0) ON CONFLICT DO NOTHING");
    ensure.setString(1, quota.tenantId());
    ensure.setString(2, quota.month());
    ensure.executeUpdate();
    PreparedStatement count =
        s.prepare(
            "UPDATE tenant_usage SET redemptions = redemptions + 1 WHERE tenant_id = ? AND month = ? AND redemptions < ?");
    count.setString(1, quota.tenantId());
    count.setString(2, quota.month());
    count.setLong(3, quota.limit());
    return count.executeUpdate() == 1;
  }

  @Override
  public long countRedemptions(String tenantId, String month) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT redemptions FROM tenant_usage WHERE tenant_id = ? AND month = ?");
          ps.setString(1, tenantId);
          ps.setString(2, month);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0L;
          }
        });
  }

  @Override
  public Optional<Instant> revokeSession(String id, Instant now) {
    return db.write(
        s -> {
          PreparedStatement update = s.prepare("UPDATE sessions SET revoke_time = ? WHERE id = ? AND revoke_time IS NULL");
          update.setLong(1, now.toEpochMilli());
          update.setString(2, id);
          update.executeUpdate();
          PreparedStatement read = s.prepare("SELECT revoke_time FROM sessions WHERE id = ?");
          read.setString(1, id);
          try (ResultSet rs = read.executeQuery()) {
            return rs.next() ? Optional.of(Instant.ofEpochMilli(rs.getLong(1))) : Optional.empty();
          }
        });
  }

  @Override
  public int purgeExpiredSessions(Instant before, int limit) {
    return db.write(
        s -> {
          if (!db.tryExclusiveLock(s, PURGE_LOCK)) {
            return 0; // another replica is purging right now
          }
          PreparedStatement ps =
              s.prepare(
                  "DELETE FROM sessions WHERE id IN"
                      + " (SELECT id FROM sessions WHERE expire_time < ? ORDER BY expire_time LIMIT ?)");
          ps.setLong(1, before.toEpochMilli());
          ps.setInt(2, limit);
          return ps.executeUpdate();
        });
  }

  @Override
  public long countLiveSessions(Instant now) {
    // Answered from the expire_time index alone.
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT COUNT(*) FROM sessions WHERE expire_time > ?");
          ps.setLong(1, now.toEpochMilli());
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0L;
          }
        });
  }

  private static Session session(ResultSet rs) throws SQLException {
    byte[] context = rs.getBytes(9);
    return new Session(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        split(rs.getString(7)),
        rs.getString(8),
        context == null ? new byte[0] : context,
        SecretHash.fromDigest(rs.getBytes(10)),
        Instant.ofEpochMilli(rs.getLong(11)),
        Instant.ofEpochMilli(rs.getLong(12)),
        rs.getInt(13),
        rs.getInt(14),
        getTime(rs, 15));
  }
}
