package dev.tokenauthority.client;

import com.google.protobuf.Struct;
import dev.tokenauthority.v1.MintSessionRequest;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to mint a session token for: the user it stands for and, optionally, the group,
 * audience, lifetime, number of uses, scopes, origin and context. Immutable; made by
 * {@link #forUser}. Take the user id from your own authenticated session, never from the
 * request of the browser that will receive the token.
 */
public final class MintSessionParams {
  private final MintSessionRequest request;

  private MintSessionParams(MintSessionRequest request) {
    this.request = request;
  }

  /** A builder for a token that stands for {@code externalUserId} (e.g. {@code rep_8842}). */
  public static Builder forUser(String externalUserId) {
    return new Builder(Objects.requireNonNull(externalUserId, "externalUserId"));
  }

  MintSessionRequest toProto() {
    return request;
  }

  @Override
  public String toString() {
    return "MintSessionParams[user=" + request.getExternalUserId() + ", audience=" + request.getAudience() + "]";
  }

  /** Builds {@link MintSessionParams}; unset options take the tenant's defaults. */
  public static final class Builder {
    private final MintSessionRequest.Builder b = MintSessionRequest.newBuilder();

    private Builder(String externalUserId) {
      b.setExternalUserId(externalUserId);
    }

    /** The user's group, e.g. an agency. */
    public Builder group(String externalGroupId) {
      b.setExternalGroupId(Objects.requireNonNull(externalGroupId, "externalGroupId"));
      return this;
    }

    /** The module or service the token is for; the redeemer may insist on it. */
    public Builder audience(String audience) {
      b.setAudience(Objects.requireNonNull(audience, "audience"));
      return this;
    }

    /**
     * How long the token lives, in whole seconds (default: the tenant's, 300 s unless it says
     * otherwise).
     *
     * @throws IllegalArgumentException unless {@code ttl} is a positive number of whole seconds
     */
    public Builder ttl(Duration ttl) {
      if (ttl.isNegative() || ttl.isZero() || ttl.getNano() != 0) {
        throw new IllegalArgumentException("ttl must be a positive number of whole seconds, not " + ttl);
      }
      b.setTtlSeconds(ttl.getSeconds());
      return this;
    }

    /** How many redemptions the token allows (default 1). */
    public Builder maxUses(int maxUses) {
      if (maxUses < 1) {
        throw new IllegalArgumentException("maxUses must be at least 1, not " + maxUses);
      }
      b.setMaxUses(maxUses);
      return this;
    }

    /** Scopes the session carries; a subset of the calling key's. */
    public Builder scopes(Collection<String> scopes) {
      b.clearScopes().addAllScopes(List.copyOf(scopes));
      return this;
    }

    /** Binds the token to this origin (one of the key's allowed origins); Redeem must then name it. */
    public Builder origin(String origin) {
      b.setOrigin(Objects.requireNonNull(origin, "origin"));
      return this;
    }

    /**
     * What the redeemer needs (persona configuration, chatbot id, ...), at most 8 KiB encoded.
     * Kept on the server, never inside the token. Values may be strings, numbers, booleans,
     * null, and maps and lists of those.
     *
     * @throws IllegalArgumentException for any other value
     */
    public Builder context(Map<String, ?> context) {
      b.setContext(Structs.toStruct(context));
      return this;
    }

    /** The context as a protobuf {@link Struct}, e.g. parsed from JSON. */
    public Builder context(Struct context) {
      b.setContext(Objects.requireNonNull(context, "context"));
      return this;
    }

    public MintSessionParams build() {
      return new MintSessionParams(b.build());
    }
  }
}
