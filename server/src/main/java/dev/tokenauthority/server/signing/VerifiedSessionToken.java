package dev.tokenauthority.server.signing;

/**
 * A session token whose signature, algorithm, type, issuer and validity period were checked.
 * Only {@link SessionTokenCodec#verify} makes one, so holding one proves the checks ran.
 */
public final class VerifiedSessionToken {
  private final String kid;
  private final SessionClaims claims;

  VerifiedSessionToken(String kid, SessionClaims claims) {
    this.kid = kid;
    this.claims = claims;
  }

  /** The signing key that signed it. */
  public String kid() {
    return kid;
  }

  public SessionClaims claims() {
    return claims;
  }
}
