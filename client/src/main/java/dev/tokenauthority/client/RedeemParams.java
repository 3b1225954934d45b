package dev.tokenauthority.client;

import dev.tokenauthority.v1.RedeemRequest;
import java.util.Objects;

/**
 * A token to redeem and what the redeemer insists on: the audience it must be for and the
 * origin it was bound to. Immutable; made by {@link #token}.
 */
public final class RedeemParams {
  private final RedeemRequest request;

  private RedeemParams(RedeemRequest request) {
    this.request = request;
  }

  /** A builder for redeeming {@code token}. */
  public static Builder token(String token) {
    return new Builder(Objects.requireNonNull(token, "token"));
  }

  RedeemRequest toProto() {
    return request;
  }

  String token() {
    return request.getToken();
  }

  @Override
  public String toString() {
    return "RedeemParams[audience=" + request.getAudience() + ", origin=" + request.getOrigin() + "]";
  }

  /** Builds {@link RedeemParams}. */
  public static final class Builder {
    private final RedeemRequest.Builder b = RedeemRequest.newBuilder();

    private Builder(String token) {
      b.setToken(token);
    }

    /** The token must have been minted for this audience (AUDIENCE_MISMATCH otherwise). */
    public Builder audience(String audience) {
      b.setAudience(Objects.requireNonNull(audience, "audience"));
      return this;
    }

    /** The origin the request came from; required when the token was bound to one. */
    public Builder origin(String origin) {
      b.setOrigin(Objects.requireNonNull(origin, "origin"));
      return this;
    }

    public RedeemParams build() {
      return new RedeemParams(b.build());
    }
  }
}
