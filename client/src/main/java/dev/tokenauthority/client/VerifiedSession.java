package dev.tokenauthority.client;

import java.time.Instant;
import java.util.Optional;

/**
 * The claims of a session token whose signature, algorithm, type, issuer, validity period,
 * tenant (unless the verifier accepts any) and (when asked for) audience {@link SessionVerifier}
 * checked. Only the verifier makes one, so
 * holding one proves the checks ran. Offline verification does not consume a use: a token that
 * must be single-use is redeemed instead.
 */
public final class VerifiedSession {
  private final String kid;
  private final String sessionId;
  private final String tenantId;
  private final String externalUserId;
  private final String audience;
  private final Instant issueTime;
  private final Instant expireTime;

  VerifiedSession(
      String kid, String sessionId, String tenantId, String externalUserId, String audience, Instant issueTime, Instant expireTime) {
    this.kid = kid;
    this.sessionId = sessionId;
    this.tenantId = tenantId;
    this.externalUserId = externalUserId;
    this.audience = audience;
    this.issueTime = issueTime;
    this.expireTime = expireTime;
  }

  /** The signing key that signed the token. */
  public String kid() {
    return kid;
  }

  /** The session's id, claim {@code jti}. */
  public String sessionId() {
    return sessionId;
  }

  /** The tenant, claim {@code tid}. */
  public String tenantId() {
    return tenantId;
  }

  /** The person the token stands for, claim {@code sub}. */
  public String externalUserId() {
    return externalUserId;
  }

  /** The audience the token was minted for, claim {@code aud}, when it names one. */
  public Optional<String> audience() {
    return RedeemedSession.nonEmpty(audience);
  }

  /** Claim {@code iat}. */
  public Instant issueTime() {
    return issueTime;
  }

  /** Claim {@code exp}. */
  public Instant expireTime() {
    return expireTime;
  }

  @Override
  public String toString() {
    return "VerifiedSession[sessionId=" + sessionId + ", tenantId=" + tenantId + ", externalUserId=" + externalUserId
        + ", expireTime=" + expireTime + "]";
  }
}
