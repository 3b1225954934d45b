package dev.tokenauthority.client;

import dev.tokenauthority.v1.MintSessionResponse;
import java.time.Duration;
import java.time.Instant;

/**
 * A freshly minted session token, to hand to the browser or SDK that will use it. Its
 * {@link #toString()} leaves the token out, so logging it is safe.
 */
public final class MintedSession {
  private final MintSessionResponse proto;

  MintedSession(MintSessionResponse proto) {
    this.proto = proto;
  }

  /** The session token, a compact JWS. A bearer secret until it is redeemed: never log it. */
  public String token() {
    return proto.getToken();
  }

  /** The session's id (the token's {@code jti}); revoke with it. */
  public String sessionId() {
    return proto.getSessionId();
  }

  /** When the token stops being redeemable. */
  public Instant expireTime() {
    return ProtoTime.instant(proto.getExpireTime());
  }

  /** How long the token lives from the server's "now". */
  public Duration expiresIn() {
    return Duration.ofSeconds(proto.getExpiresInSeconds());
  }

  /** The response as it came over the wire (the token included), e.g. to print it as JSON. */
  public MintSessionResponse toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return "MintedSession[sessionId=" + sessionId() + ", expireTime=" + expireTime() + "]";
  }
}
