package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Sessions in the {@code sessions} table, and the monthly redemption counts of {@code tenant_usage}
 * that a redeem charges ({@link QuotaCharges}). Single use rests on one conditional UPDATE per
 * redeem, never a read then a write. The statements of mint and redeem are {@link SessionBatches},
 * grouped across concurrent calls where the database does that.
 */
final class JdbcSessionStore implements SessionStore {
  /** The lock that makes replicas on one database purge one at a time ("purge" in ASCII). */
  private static final long PURGE_LOCK = 0x7075726765L;
  private final Database db;
  private final SessionBatches batches;

  JdbcSessionStore(Database db) {
    this.db = db;
    this.batches = new SessionBatches(db);
  }

  @Override
  public CompletableFuture<Void> insertSession(Session x) {
    return batches.insert(x);
  }

  @Override
  public CompletableFuture<Optional<Session>> findSessionForToken(String id, SecretHash tokenHash) {
    return batches.find(id).thenApply(found -> SessionBatches.ifTokenMatches(found, tokenHash));
  }

  @Override
  public CompletableFuture<Redemption> redeemSessionUse(
      String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {
    return db.writesThroughOneConnection()
        ? batches.redeemInOneWrite(id, tokenHash, check, now, quota)
        : SessionStore.lookUpThenConsume(this, id, tokenHash, check, now, quota);
  }

  @Override
  public Optional<Session> findSession(String id) {
    return db.read(s -> SessionBatches.findOne(s, id));
  }

  @Override
  public CompletableFuture<ConsumeResult> consumeSessionUse(String id, Instant now, QuotaCharge quota) {
    return batches.consume(id, now, quota);
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
}
