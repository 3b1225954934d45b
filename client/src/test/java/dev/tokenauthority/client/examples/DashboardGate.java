package dev.tokenauthority.client.examples;

import dev.tokenauthority.client.SessionVerifier;
import dev.tokenauthority.client.TokenAuthorityClient;
import dev.tokenauthority.client.TokenAuthorityException;
import dev.tokenauthority.client.VerifiedSession;
import java.util.Optional;

/**
 * A read-only dashboard that only needs to know who is looking: it verifies tokens offline,
 * with no call to the authority per request, and does not use them up.
 */
public final class DashboardGate {
  private final SessionVerifier verifier;

  public DashboardGate(TokenAuthorityClient authority, String tenantId) {
    // Fetches the public keys once, then again only when a token names a key it has not seen.
    // Every tenant's tokens are signed by the same keys: accept only your tenant's.
    this.verifier = SessionVerifier.builder(authority).tenant(tenantId).audience("dashboard").build();
  }

  /** The user a token stands for, or empty when it is forged, expired, or for another tenant or audience. */
  public Optional<String> viewer(String token) {
    try {
      VerifiedSession session = verifier.verify(token);
      return Optional.of(session.externalUserId());
    } catch (TokenAuthorityException e) {
      return Optional.empty();
    }
  }
}
