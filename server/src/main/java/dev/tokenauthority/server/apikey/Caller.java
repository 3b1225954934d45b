package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import java.time.Instant;
import java.util.List;

/**
 * Who is calling: the API key that authenticated the current call. {@code expireTime} is the
 * key's own expiry, null when it has none.
 */
public record Caller(
    String apiKeyId, String tenantId, List<String> scopes, List<String> allowedOrigins, Instant expireTime) {

  public Caller {
    scopes = List.copyOf(scopes);
    allowedOrigins = List.copyOf(allowedOrigins);
    for (String origin : allowedOrigins) {
      if (origin.indexOf('[') >= 0) {
        // An IPv6 literal stored before it was normalised (Origins.asNormalisedNow).
        allowedOrigins = allowedOrigins.stream().map(Origins::asNormalisedNow).toList();
        break;
      }
    }
  }

  static Caller of(ApiKey key) {
    return new Caller(key.id(), key.tenantId(), key.scopes(), key.allowedOrigins(), key.expireTime());
  }

  public boolean isAdmin() {
    return scopes.contains(Scopes.ADMIN);
  }

  /** Whether the caller may see what belongs to {@code tenantId}: its own tenant's, or any for an admin. */
  public boolean canSee(String tenantId) {
    return isAdmin() || this.tenantId.equals(tenantId);
  }

  /** Whether the key allows tokens bound to, or calls from a browser at, {@code origin} (any form). */
  public boolean allowsOrigin(String origin) {
    return Origins.normalise(origin).map(allowedOrigins::contains).orElse(false);
  }

  public boolean has(String scope) {
    return Scopes.grants(scopes, scope);
  }

  /** Throws SCOPE_NOT_GRANTED unless the caller holds {@code scope}. */
  public void require(String scope) {
    if (!has(scope)) {
      throw AuthorityException.of(
          ErrorReason.SCOPE_NOT_GRANTED, "this API key lacks the scope " + scope);
    }
  }

  /**
   * Throws ORIGIN_NOT_ALLOWED unless the caller allows every one of {@code wanted} (normalised
   * origins), as a new key may only carry origins of the key that makes it; an admin may give any.
   */
  public void requireOrigins(List<String> wanted, String what) {
    if (isAdmin()) {
      return;
    }
    for (String origin : wanted) {
      if (!allowedOrigins.contains(origin)) {
        throw AuthorityException.of(
            ErrorReason.ORIGIN_NOT_ALLOWED,
            what + " may only allow origins of the calling key; it does not allow " + origin);
      }
    }
  }

  /** Throws SCOPE_NOT_GRANTED unless the caller holds every one of {@code wanted}. */
  public void requireAll(List<String> wanted, String what) {
    for (String scope : wanted) {
      if (!has(scope)) {
        throw AuthorityException.of(
            ErrorReason.SCOPE_NOT_GRANTED,
            what + " may only carry scopes of the calling key; it lacks " + scope);
      }
    }
  }
}
