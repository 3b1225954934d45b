package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.secret.SecretHash;
import java.time.Instant;
import java.util.List;

/**
 * A stored API key: its metadata and the hash of its secret, never the secret. Optional
 * times are null when unset.
 */
public record ApiKey(
    String id,
    String tenantId,
    String name,
    List<String> scopes,
    List<String> allowedOrigins,
    SecretHash secretHash,
    String hint,
    Instant createTime,
    Instant expireTime,
    Instant lastUsedTime,
    Instant revokeTime) {

  public ApiKey {
    scopes = List.copyOf(scopes);
    allowedOrigins = List.copyOf(allowedOrigins);
  }

  public boolean isRevoked() {
    return revokeTime != null;
  }

  public boolean isExpiredAt(Instant now) {
    return expireTime != null && !now.isBefore(expireTime);
  }

  public ApiKey withLastUsedTime(Instant time) {
    return new ApiKey(
        id, tenantId, name, scopes, allowedOrigins, secretHash, hint, createTime, expireTime, time,
        revokeTime);
  }

  public ApiKey withRevokeTime(Instant time) {
    return new ApiKey(
        id, tenantId, name, scopes, allowedOrigins, secretHash, hint, createTime, expireTime,
        lastUsedTime, time);
  }
}
