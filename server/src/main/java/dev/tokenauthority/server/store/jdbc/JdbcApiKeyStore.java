package dev.tokenauthority.server.store.jdbc;

import static dev.tokenauthority.server.store.jdbc.JdbcValues.getTime;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.join;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.setTime;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.split;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.secret.SecretHash;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** API keys in the {@code api_keys} table, found by id or by the hash of their secret. */
final class JdbcApiKeyStore implements ApiKeyStore {
  private static final String KEY_COLUMNS =
      "id, tenant_id, name, scopes, allowed_origins, secret_hash, hint, create_time, expire_time,"
          + " last_used_time, revoke_time";

  private final Database db;

  JdbcApiKeyStore(Database db) {
    this.db = db;
  }

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
  public CompletableFuture<Void> recordApiKeyUse(String id, Instant time) {
    return db.writeAsync(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "UPDATE api_keys SET last_used_time = ? WHERE id = ?"
                      + " AND (last_used_time IS NULL OR last_used_time < ?)");
          ps.setLong(1, time.toEpochMilli());
          ps.setString(2, id);
          ps.setLong(3, time.toEpochMilli());
          ps.executeUpdate();
          return null;
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
}
