package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.secret.RandomStrings;
import dev.tokenauthority.server.secret.SecretHash;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

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

  /** Every key id starts so ({@code key_} and 22 base62 characters). */
  public static final String ID_PREFIX = "key_";
  /** The shape of a key id, and of nothing else. */
  public static final Pattern ID_SHAPE = RandomStrings.idShape(ID_PREFIX);

  /** A new, random key id. */
  public static String newId() {
    return RandomStrings.id(ID_PREFIX);
  }

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
