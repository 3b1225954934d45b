package dev.tokenauthority.client;

import dev.tokenauthority.v1.CreateApiKeyRequest;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * An API key to create: its name, scopes (a subset of the caller's), optional expiry, allowed
 * origins and tenant. Immutable; made by {@link #named}.
 */
public final class CreateApiKeyParams {
  private final CreateApiKeyRequest request;

  private CreateApiKeyParams(CreateApiKeyRequest request) {
    this.request = request;
  }

  /** A builder for a key called {@code name} (1-100 characters, for people). */
  public static Builder named(String name) {
    return new Builder(Objects.requireNonNull(name, "name"));
  }

  CreateApiKeyRequest toProto() {
    return request;
  }

  /** Builds {@link CreateApiKeyParams}. */
  public static final class Builder {
    private final CreateApiKeyRequest.Builder b = CreateApiKeyRequest.newBuilder();

    private Builder(String name) {
      b.setName(name);
    }

    /** What the key may do, e.g. {@code sessions:mint}; at least one. */
    public Builder scopes(Collection<String> scopes) {
      b.clearScopes().addAllScopes(List.copyOf(scopes));
      return this;
    }

    public Builder scopes(String... scopes) {
      return scopes(List.of(scopes));
    }

    /** When the key stops working; must be in the future. Unset: never. */
    public Builder expireTime(Instant expireTime) {
      b.setExpireTime(ProtoTime.timestamp(expireTime));
      return this;
    }

    /** Origins the key may bind session tokens to, e.g. {@code https://app.example.com}. */
    public Builder allowedOrigins(Collection<String> origins) {
      b.clearAllowedOrigins().addAllAllowedOrigins(List.copyOf(origins));
      return this;
    }

    /** The tenant (only an admin key may name another); unset: the caller's own. */
    public Builder tenant(String tenantId) {
      b.setTenantId(Objects.requireNonNull(tenantId, "tenantId"));
      return this;
    }

    public CreateApiKeyParams build() {
      return new CreateApiKeyParams(b.build());
    }
  }
}
