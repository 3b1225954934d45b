package dev.tokenauthority.server.audit;

import java.time.Instant;

/**
 * One line of the audit log: a state change, or a refused call. Every field is an identifier
 * or a code; none is a secret, a token, a hash of either, or a session's context. Null means
 * unknown or not applicable (see docs/audit-log.md).
 *
 * @param time when the call ended
 * @param rpc the full method name, {@code tokenauthority.v1.TokenAuthority/MintSession}
 * @param outcome {@code ok}, {@code refused}, {@code cancelled} or {@code error}
 * @param code the gRPC status code, {@code OK}, {@code UNAUTHENTICATED}, ...
 * @param reason the ErrorInfo reason of a refusal
 * @param tenant the calling API key's tenant
 * @param apiKeyId the calling API key's id
 * @param sessionId the session minted, redeemed or revoked
 * @param externalUserId the user a session was minted or redeemed for
 * @param targetApiKeyId the API key created or revoked
 * @param targetTenant the tenant created, changed or acted in
 * @param kid the signing key created by a rotation
 * @param peer the client's address, {@code 10.0.0.7:53122}
 * @param peerCertificate the subject of the client's TLS certificate (mTLS)
 */
public record AuditEvent(
    Instant time,
    String rpc,
    String outcome,
    String code,
    String reason,
    String tenant,
    String apiKeyId,
    String sessionId,
    String externalUserId,
    String targetApiKeyId,
    String targetTenant,
    String kid,
    String peer,
    String peerCertificate) {
  public static final String OK = "ok";
  public static final String REFUSED = "refused";
  public static final String CANCELLED = "cancelled";
  public static final String ERROR = "error";
}
