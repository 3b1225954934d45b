package dev.tokenauthority.server.session;

import dev.tokenauthority.server.secret.RandomStrings;
import dev.tokenauthority.server.secret.SecretHash;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A stored session: what its token stands for, the hash of the token (never the token), and
 * how many uses are left. {@code context} is the caller's {@code google.protobuf.Struct},
 * kept encoded and opaque here. Empty strings mean "not given"; {@code revokeTime} is null
 * unless the session itself was revoked.
 */
public record Session(
    String id,
    String tenantId,
    String apiKeyId,
    String externalUserId,
    String externalGroupId,
    String audience,
    List<String> scopes,
    String origin,
    byte[] context,
    SecretHash tokenHash,
    Instant issueTime,
    Instant expireTime,
    int maxUses,
    int usesRemaining,
    Instant revokeTime) {

  /** Every session id starts so ({@code ses_} and 24 base62 characters, the first 8 its time). */
  public static final String ID_PREFIX = "ses_";
  /** The shape of a session id, and of nothing else. */
  public static final Pattern ID_SHAPE = RandomStrings.timeOrderedIdShape(ID_PREFIX);

  /** A new session id, sorting after those made before {@code epochMillis}. */
  public static String newId(long epochMillis) {
    return RandomStrings.timeOrderedId(ID_PREFIX, epochMillis);
  }

  public Session {
    scopes = List.copyOf(scopes);
  }

  public boolean isExpiredAt(Instant now) {
    return !now.isBefore(expireTime);
  }

  public Session withUsesRemaining(int remaining) {
    return new Session(
        id, tenantId, apiKeyId, externalUserId, externalGroupId, audience, scopes, origin, context, tokenHash,
        issueTime, expireTime, maxUses, remaining, revokeTime);
  }

  public Session withRevokeTime(Instant time) {
    return new Session(
        id, tenantId, apiKeyId, externalUserId, externalGroupId, audience, scopes, origin, context, tokenHash,
        issueTime, expireTime, maxUses, usesRemaining, time);
  }
}
