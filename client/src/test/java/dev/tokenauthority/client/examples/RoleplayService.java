package dev.tokenauthority.client.examples;

import dev.tokenauthority.client.RedeemParams;
import dev.tokenauthority.client.RedeemedSession;
import dev.tokenauthority.client.TokenAuthorityClient;
import dev.tokenauthority.client.TokenAuthorityException;

/**
 * The service the token is for: when the browser connects with a token, it redeems it and
 * trusts only what the authority answers.
 */
public final class RoleplayService {
  private final TokenAuthorityClient authority;

  public RoleplayService(TokenAuthorityClient authority) {
    this.authority = authority;
  }

  /** Who the conversation is with and how it is set up: all of it from Redeem's answer. */
  public record Conversation(String userId, String agencyId, String persona) {}

  /** Why a connection was refused, and the HTTP status to answer with. */
  public static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;

    Refused(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /**
   * Opens a conversation for the token the browser presented.
   *
   * @param origin the {@code Origin} header of the browser's request
   */
  public Conversation open(String token, String origin) throws Refused {
    try {
      // One use is consumed here. Redeem is never retried: a repeat would use the token again.
      RedeemedSession session = authority.redeem(RedeemParams.token(token).audience("roleplay").origin(origin).build());
      Object persona = session.context().getOrDefault("persona", "default");
      return new Conversation(session.externalUserId(), session.externalGroupId().orElse(""), String.valueOf(persona));
    } catch (TokenAuthorityException e) {
      switch (e.reason()) {
        case TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, TOKEN_ALREADY_USED ->
            throw new Refused(401, "the session token is not valid any more; get a new one");
        case AUDIENCE_MISMATCH, ORIGIN_NOT_ALLOWED -> throw new Refused(403, "this token is not for this service");
        default -> throw new Refused(503, "cannot check the session token now (" + e.headline() + ")");
      }
    }
  }
}
