package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.tenant.Tenant;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The store on a SQL database, in SQL that SQLite and PostgreSQL both speak. Times are epoch
 * milliseconds; lists of scopes, origins and modules are space-separated (none may contain a
 * space). Single use rests on one conditional UPDATE per redeem, never a read then a write.
 */
public final class JdbcStore implements Store {
  /** The lock that makes replicas on one database purge one at a time ("purge" in ASCII). */
  private static final long PURGE_LOCK = 0x7075726765L;
  private final String kind;
  private final Database db;
  private final SessionBatches sessionBatches;

  public JdbcStore(String kind, Database db) {
    this.kind = kind;
    this.db = db;
    this.sessionBatches = new SessionBatches(db);
  }

  @Override
  public String kind() {
    return kind;
  }

  @Override
  public boolean isServing() {
    return db.isServing();
  }

  @Override
  public void close() {
    db.close();
  }

  // Tenants

  private static final String TENANT_COLUMNS =
      "id, display_name, status, subscription_status, enabled_modules, session_ttl_default_seconds,"
          + " session_ttl_max_seconds, mint_rate_per_minute, mint_rate_per_user_per_hour,"
          + " monthly_session_quota, create_time, update_time";

  @Override
  public Optional<Tenant> findTenant(String id) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + TENANT_COLUMNS + " FROM tenants WHERE id = ?");
          ps.setString(1, id);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(tenant(rs)) : Optional.empty();
          }
        });
  }

  @Override
  public boolean insertTenant(Tenant t) {
    return db.write(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "INSERT INTO tenants (" + TENANT_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT DO NOTHING");
          bindTenant(ps, t);
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public boolean updateTenant(Tenant t) {
    return db.write(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "UPDATE tenants SET id = ?, display_name = ?, status = ?, subscription_status = ?,"
                      + " enabled_modules = ?, session_ttl_default_seconds = ?, session_ttl_max_seconds = ?,"
                      + " mint_rate_per_minute = ?, mint_rate_per_user_per_hour = ?, monthly_session_quota = ?,"
                      + " create_time = ?, update_time = ? WHERE id = ?");
          bindTenant(ps, t);
          ps.setString(13, t.id());
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public List<Tenant> listTenants(String afterId, int limit) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + TENANT_COLUMNS + " FROM tenants WHERE id > ? ORDER BY id LIMIT ?");
          ps.setString(1, afterId);
          ps.setInt(2, limit);
          List<Tenant> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(tenant(rs));
            }
          }
          return out;
        });
  }

  private static void bindTenant(PreparedStatement ps, Tenant t) throws SQLException {
    ps.setString(1, t.id());
    ps.setString(2, t.displayName());
    ps.setString(3, t.status().name());
    ps.setString(4, t.subscriptionStatus().name());
    ps.setString(5, join(t.enabledModules()));
    ps.setLong(6, t.sessionTtlDefaultSeconds());
    ps.setLong(7, t.sessionTtlMaxSeconds());
    ps.setInt(8, t.mintRatePerMinute());
    ps.setInt(9, t.mintRatePerUserPerHour());
    ps.setLong(10, t.monthlySessionQuota());
    ps.setLong(11, t.createTime().toEpochMilli());
    ps.setLong(12, t.updateTime().toEpochMilli());
  }

  private static Tenant tenant(ResultSet rs) throws SQLException {
    return new Tenant(
        rs.getString(1),
        rs.getString(2),
        Tenant.Status.valueOf(rs.getString(3)),
        Tenant.SubscriptionStatus.valueOf(rs.getString(4)),
        split(rs.getString(5)),
        rs.getLong(6),
        rs.getLong(7),
        rs.getInt(8),
        rs.getInt(9),
        rs.getLong(10),
        Instant.ofEpochMilli(rs.getLong(11)),
        Instant.ofEpochMilli(rs.getLong(12)));
  }

  // API keys

  private static final String KEY_COLUMNS =
      "id, tenant_id, name, scopes, allowed_origins, secret_hash, hint, create_time, expire_time,"
          + " last_used_time, revoke_time";

  @Override
  public boolean insertApiKey(ApiKey k) {
    return db.write(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "INSERT INTO api_keys (" + KEY_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT DO NOTHING");
          ps.setString(1, k.id());
          ps.setString(2, k.tenantId());
          ps.setString(3, k.name());
          ps.setString(4, join(k.scopes()));
          ps.setString(5, join(k.allowedOrigins()));
          ps.setBytes(6, k.secretHash().digest());
          ps.setString(7, k.hint());
          ps.setLong(8, k.createTime().toEpochMilli());
          setTime(ps, 9, k.expireTime());
          setTime(ps, 10, k.lastUsedTime());
          setTime(ps, 11, k.revokeTime());
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public Optional<ApiKey> findApiKeyBySecretHash(SecretHash hash) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE secret_hash = ?");
          ps.setBytes(1, hash.digest());
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(apiKey(rs)) : Optional.empty();
          }
        });
  }

  @Override
  public Optional<ApiKey> findApiKey(String id) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE id = ?");
          ps.setString(1, id);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(apiKey(rs)) : Optional.empty();
          }
        });
  }

  @Override
  public List<ApiKey> listApiKeys(String tenantId, ApiKeyCursor after, int limit) {
    return db.read(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE tenant_id = ? AND revoke_time IS NULL"
                      + " AND (create_time > ? OR (create_time = ? AND id > ?)) ORDER BY create_time, id LIMIT ?");
          long afterTime = after == null ? Long.MIN_VALUE : after.createTime().toEpochMilli();
          ps.setString(1, tenantId);
          ps.setLong(2, afterTime);
          ps.setLong(3, afterTime);
          ps.setString(4, after == null ? "" : after.id());
          ps.setInt(5, limit);
          List<ApiKey> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(apiKey(rs));
            }
          }
          return out;
        });
  }

  @Override
  public Optional<Instant> revokeApiKey(String id, Instant now) {
    return db.write(
        s -> {
          PreparedStatement update = s.prepare("UPDATE api_keys SET revoke_time = ? WHERE id = ? AND revoke_time IS NULL");
          update.setLong(1, now.toEpochMilli());
          update.setString(2, id);
          update.executeUpdate();
          PreparedStatement read = s.prepare("SELECT revoke_time FROM api_keys WHERE id = ?");
          read.setString(1, id);
          try (ResultSet rs = read.executeQuery()) {
            return rs.next() ? Optional.of(Instant.ofEpochMilli(rs.getLong(1))) : Optional.empty();
          }
        });
  }

  @Override
  public void recordApiKeyUse(String id, Instant time) {
    Completions.join(recordApiKeyUseAsync(id, time));
  }

  @Override
  public void recordApiKeyUseLater(String id, Instant time) {
    recordApiKeyUseAsync(id, time);
  }

  private CompletableFuture<Integer> recordApiKeyUseAsync(String id, Instant time) {
    return db.writeAsync(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "UPDATE api_keys SET last_used_time = ? WHERE id = ?"
                      + " AND (last_used_time IS NULL OR last_used_time < ?)");
          ps.setLong(1, time.toEpochMilli());
          ps.setString(2, id);
          ps.setLong(3, time.toEpochMilli());
          return ps.executeUpdate();
        });
  }

  private static ApiKey apiKey(ResultSet rs) throws SQLException {
    return new ApiKey(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        split(rs.getString(4)),
        split(rs.getString(5)),
        SecretHash.fromDigest(rs.getBytes(6)),
        rs.getString(7),
        Instant.ofEpochMilli(rs.getLong(8)),
        getTime(rs, 9),
        getTime(rs, 10),
        getTime(rs, 11));
  }

  // Sessions

  private static final String SESSION_COLUMNS =
      SessionBatches.SESSION_COLUMNS;

  @Override
  public void insertSession(Session x) {
    Completions.join(insertSessionAsync(x));
  }

  @Override
  public CompletableFuture<Void> insertSessionAsync(Session x) {
    return sessionBatches.insert(x);
  }

  @Override
  public Optional<Session> findSessionForToken(String id, SecretHash tokenHash) {
    return findSession(id).filter(session -> session.tokenHash().equals(tokenHash));
  }

  @Override
  public CompletableFuture<Optional<Session>> findSessionForTokenAsync(String id, SecretHash tokenHash) {
    return sessionBatches.find(id).thenApply(found -> found.filter(session -> session.tokenHash().equals(tokenHash)));
  }

  @Override
  public Optional<Session> findSession(String id) {
    return db.read(s -> SessionBatches.findOne(s, id));
  }

  @Override
  public ConsumeResult consumeSessionUse(String id, Instant now, QuotaCharge quota) {
    return Completions.join(consumeSessionUseAsync(id, now, quota));
  }

  @Override
  public CompletableFuture<ConsumeResult> consumeSessionUseAsync(String id, Instant now, QuotaCharge quota) {
    return sessionBatches.consume(id, now, quota);
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


  // Rate limits

  @Override
  public boolean isShared() {
    return kind.equals("postgres");
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

  // Signing keys

  @Override
  public List<SigningKey> listSigningKeys() {
    return db.read(
        s -> {
          PreparedStatement ps =
              s.prepare("SELECT kid, private_key, public_key, create_time FROM signing_keys ORDER BY create_time DESC, kid DESC");
          List<SigningKey> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(new SigningKey(rs.getString(1), rs.getBytes(2), rs.getBytes(3), Instant.ofEpochMilli(rs.getLong(4))));
            }
          }
          return out;
        });
  }

  @Override
  public void insertSigningKey(SigningKey key) {
    db.write(
        s -> {
          PreparedStatement ps =
              s.prepare("INSERT INTO signing_keys (kid, private_key, public_key, create_time) VALUES (?, ?, ?, ?)");
          ps.setString(1, key.kid());
          ps.setBytes(2, key.privateKeyPkcs8());
          ps.setBytes(3, key.publicKeyX509());
          ps.setLong(4, key.createTime().toEpochMilli());
          return ps.executeUpdate();
        });
  }

  // Helpers


  private static String join(List<String> values) {
    return String.join(" ", values);
  }

  private static List<String> split(String joined) {
    return joined == null || joined.isEmpty() ? List.of() : Arrays.asList(joined.split(" "));
  }

  private static void setTime(PreparedStatement ps, int index, Instant time) throws SQLException {
    if (time == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, time.toEpochMilli());
    }
  }

  private static Instant getTime(ResultSet rs, int index) throws SQLException {
    long millis = rs.getLong(index);
    return rs.wasNull() ? null : Instant.ofEpochMilli(millis);
  }
}
