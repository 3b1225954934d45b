package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.apikey.ApiKeyStore.ApiKeyCursor;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.Violations;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantPolicy;
import dev.tokenauthority.server.tenant.TenantStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API keys: authenticating a call's secret, and creating, listing and revoking keys within a
 * tenant. Authentication is served from a short-lived cache of keys by secret hash; a
 * revocation made through this service drops the key from the cache at once.
 */
public final class ApiKeyService {
  private static final Logger log = LoggerFactory.getLogger(ApiKeyService.class);

  /** The smallest secret accepted, also for a configured admin key. */
  public static final int MIN_SECRET_LENGTH = 32;

  static final int MAX_SECRET_LENGTH = 512;
  private static final Duration LAST_USED_GRANULARITY = Duration.ofMinutes(1);
  private static final int MAX_CACHED_KEYS = 100_000;

  private final ApiKeyStore keys;
  private final TenantStore tenants;
  private final ApiKeySecrets secrets;
  private final Clock clock;
  private final long cacheTtlNanos;
  private final ConcurrentHashMap<SecretHash, CachedKey> cache = new ConcurrentHashMap<>();
  /** Keys revoked through this process: a cache entry loaded before the revocation is not trusted. */
  private final java.util.Set<String> revokedHere = ConcurrentHashMap.newKeySet();

  private record CachedKey(ApiKey key, long loadedAtNanos) {}

  /** A new key and its secret, which is shown this once. */
  public record CreatedKey(ApiKey key, String secret) {
    @Override
    public String toString() {
      return "CreatedKey[key=" + key.id() + ", secret=redacted]";
    }
  }

  /** What a caller asks for when creating a key. */
  public record NewKey(
      String tenantId, String name, Instant expireTime, List<String> scopes, List<String> allowedOrigins) {}

  /** One page of a key listing. */
  public record Page(List<ApiKey> keys, String nextPageToken) {}

  public ApiKeyService(
      ApiKeyStore keys, TenantStore tenants, ApiKeySecrets secrets, Clock clock, Duration cacheTtl) {
    this.keys = keys;
    this.tenants = tenants;
    this.secrets = secrets;
    this.clock = clock;
    this.cacheTtlNanos = cacheTtl.toNanos();
  }

  /**
   * Authenticates the secret of an {@code authorization} header's bearer credential.
   *
   * @throws AuthorityException API_KEY_INVALID, API_KEY_REVOKED or API_KEY_EXPIRED
   */
  public Caller authenticate(String secret) {
    if (secret.length() < MIN_SECRET_LENGTH || secret.length() > MAX_SECRET_LENGTH) {
      throw invalidKey();
    }
    // A secret of exactly our generated shape with a bad checksum is a typo or a forgery:
    // refuse it without touching the store. Other shapes can only be a configured admin secret.
    if (secrets.hasGeneratedShape(secret) && !secrets.isWellFormed(secret)) {
      throw invalidKey();
    }
    SecretHash hash = SecretHash.of(secret);
    ApiKey key = lookUp(hash);
    if (key != null && !key.isRevoked() && revokedHere.contains(key.id())) {
      // A copy cached just before this process revoked it: the revocation wins at once.
      cache.remove(hash);
      key = key.withRevokeTime(clock.instant());
    }
    // The map lookup matched on the hash; compare it again explicitly in constant time.
    if (key == null || !key.secretHash().equals(hash)) {
      throw invalidKey();
    }
    Instant now = clock.instant();
    if (key.isRevoked()) {
      throw AuthorityException.of(ErrorReason.API_KEY_REVOKED, "this API key was revoked");
    }
    if (key.isExpiredAt(now)) {
      throw AuthorityException.of(ErrorReason.API_KEY_EXPIRED, "this API key has expired");
    }
    recordUse(hash, key, now);
    return Caller.of(key);
  }

  private ApiKey lookUp(SecretHash hash) {
    long now = System.nanoTime();
    CachedKey cached = cache.get(hash);
    if (cached != null && now - cached.loadedAtNanos() < cacheTtlNanos) {
      return cached.key();
    }
    Optional<ApiKey> found = keys.findApiKeyBySecretHash(hash);
    if (found.isEmpty()) {
      cache.remove(hash);
      return null;
    }
    if (cache.size() >= MAX_CACHED_KEYS) {
      cache.clear();
    }
    cache.put(hash, new CachedKey(found.get(), now));
    return found.get();
  }

  private void recordUse(SecretHash hash, ApiKey key, Instant now) {
    Instant last = key.lastUsedTime();
    if (last != null && Duration.between(last, now).compareTo(LAST_USED_GRANULARITY) < 0) {
      return;
    }
    // Bookkeeping, not a guarantee: written without making the call wait, and a failure to
    // write it never fails the call.
    keys.recordApiKeyUse(key.id(), now);
    cache.computeIfPresent(hash, (h, c) -> new CachedKey(key.withLastUsedTime(now), c.loadedAtNanos()));
  }

  /**
   * A time as every store keeps it (milliseconds). The page token carries milliseconds
   * too: a finer create time would make the last key of a page sort after its own token, so the
   * next page would start with it again, forever.
   */
  private static Instant storedPrecision(Instant t) {
    return t.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
  }

  private static AuthorityException invalidKey() {
    return AuthorityException.of(ErrorReason.API_KEY_INVALID, "the API key is not valid");
  }

  /** Creates a key in the caller's tenant, or in any tenant for an admin. */
  public CreatedKey create(Caller caller, NewKey request) {
    Instant now = storedPrecision(clock.instant());
    Violations v = new Violations();
    v.text(request.name(), "name", 1, 100);
    v.notBlank(request.name(), "name");
    List<String> scopes = Scopes.validate(request.scopes(), "scopes", v);
    v.check(!scopes.isEmpty(), "scopes", "at least one scope is required");
    List<String> origins = Origins.validateAll(request.allowedOrigins(), "allowed_origins", v);
    // As stored, so that the key this call answers with is the key every later read shows.
    Instant requestedExpiry = request.expireTime() == null ? null : storedPrecision(request.expireTime());
    if (requestedExpiry != null) {
      v.check(requestedExpiry.isAfter(now), "expire_time", "must be in the future");
      // No key outlives the key that made it, as no key is stronger than it.
      v.check(caller.expireTime() == null || !requestedExpiry.isAfter(caller.expireTime()), "expire_time",
          "must not be later than the calling key's own expiry, " + caller.expireTime());
    }
    v.throwIfAny();
    String tenantId = resolveTenant(caller, request.tenantId());
    Tenant tenant =
        tenants.findTenant(tenantId).orElseThrow(() -> AuthorityException.of(ErrorReason.NOT_FOUND, "no tenant with this id"));
    TenantPolicy.check(tenant, TenantPolicy.Operation.CREATE_KEY);
    caller.requireAll(scopes, "a new key");
    caller.requireOrigins(origins, "a new key");
    if (scopes.contains(Scopes.ADMIN) && !tenantId.equals(Tenant.DEFAULT_ID)) {
      // An admin key reaches every tenant; labelled with another tenant, it would look like that
      // tenant's key while being everyone's superuser.
      throw AuthorityException.invalidField("scopes", "admin is a scope of the " + Tenant.DEFAULT_ID + " tenant's keys only");
    }
    Instant expireTime = requestedExpiry != null ? requestedExpiry : caller.expireTime();

    String secret = secrets.generate();
    ApiKey key =
        new ApiKey(
            ApiKey.newId(),
            tenantId,
            request.name(),
            scopes,
            origins,
            SecretHash.of(secret),
            secrets.hint(secret),
            now,
            expireTime,
            null,
            null);
    if (!keys.insertApiKey(key)) {
      // 256 random bits for the secret and ~95 for the id: a clash means a broken random source.
      throw new IllegalStateException("a new API key clashed with a stored one");
    }
    log.info("api key created id={} tenant={} by={}", key.id(), tenantId, caller.apiKeyId());
    return new CreatedKey(key, secret);
  }

  /**
   * Lists the unrevoked keys of a tenant, oldest first. A page token names the tenant it pages
   * through: given with another tenant it is INVALID_REQUEST (AIP-158), not an empty page.
   */
  public Page list(Caller caller, String tenantRef, int pageSize, String pageToken) {
    Violations v = new Violations();
    int size = v.pageSize(pageSize);
    String tenantId = resolveTenant(caller, tenantRef);
    ApiKeyCursor after = pageToken.isEmpty() ? null : decodeCursor(pageToken, tenantId);
    v.check(pageToken.isEmpty() || after != null, "page_token", "is not a page token of this listing (of this tenant's keys)");
    v.throwIfAny();
    List<ApiKey> page = keys.listApiKeys(tenantId, after, size + 1);
    if (page.size() <= size) {
      return new Page(page, "");
    }
    List<ApiKey> shown = page.subList(0, size);
    ApiKey last = shown.get(size - 1);
    return new Page(List.copyOf(shown), encodeCursor(tenantId, new ApiKeyCursor(last.createTime(), last.id())));
  }

  /**
   * Revokes a key of the caller's tenant (any tenant for an admin), immediately and for good.
   *
   * @throws AuthorityException NOT_FOUND when no such key is visible to the caller
   */
  public Instant revoke(Caller caller, String keyId) {
    Optional<ApiKey> key = keys.findApiKey(keyId);
    if (key.isEmpty() || !caller.canSee(key.get().tenantId())) {
      throw AuthorityException.of(ErrorReason.NOT_FOUND, "no API key with this id");
    }
    if (key.get().scopes().contains(Scopes.ADMIN) && !caller.isAdmin()) {
      throw AuthorityException.of(ErrorReason.SCOPE_NOT_GRANTED, "only an admin key may revoke an admin key");
    }
    revokedHere.add(keyId);
    Instant revoked =
        keys.revokeApiKey(keyId, clock.instant())
            .orElseThrow(() -> AuthorityException.of(ErrorReason.NOT_FOUND, "no API key with this id"));
    cache.values().removeIf(c -> c.key().id().equals(keyId));
    log.info("api key revoked id={} tenant={} by={}", keyId, key.get().tenantId(), caller.apiKeyId());
    return revoked;
  }

  /**
   * Refuses a {@code TOKEN_AUTHORITY_ADMIN_KEY} that could never authenticate, before anything is
   * opened: the start checks it with its other settings.
   *
   * @throws IllegalArgumentException saying what is wrong, never echoing the secret
   */
  public static void checkConfiguredAdminSecret(String secret, ApiKeySecrets secrets) {
    if (secret.length() < MIN_SECRET_LENGTH || secret.length() > MAX_SECRET_LENGTH) {
      throw new IllegalArgumentException(
          "TOKEN_AUTHORITY_ADMIN_KEY must have " + MIN_SECRET_LENGTH + " to " + MAX_SECRET_LENGTH + " characters");
    }
    if (!secret.equals(secret.strip()) || !secret.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
      // A header carries printable ASCII, and the server strips what surrounds a key: such a
      // secret could never be presented, so the deployment would have no usable admin key.
      throw new IllegalArgumentException(
          "TOKEN_AUTHORITY_ADMIN_KEY must be printable ASCII with no space or line break around it, as it is sent in a header");
    }
    if (secrets.hasGeneratedShape(secret) && !secrets.isWellFormed(secret)) {
      // It would be refused by its checksum on every call: say so now, not at the first call.
      throw new IllegalArgumentException(
          "TOKEN_AUTHORITY_ADMIN_KEY looks like a generated " + secrets.prefix() + " key but its checksum is wrong (a typo?)");
    }
  }

  /**
   * Makes sure the deployment has an admin key. With a configured secret, ensures a key with
   * that secret exists; without one, generates a key when no admin key would authenticate (each
   * is revoked or expired).
   *
   * @return the generated secret, to be shown once; empty when nothing was generated
   */
  public Optional<String> ensureAdminKey(Optional<String> configuredSecret) {
    Instant now = storedPrecision(clock.instant());
    if (configuredSecret.isPresent()) {
      String secret = configuredSecret.get();
      checkConfiguredAdminSecret(secret, secrets);
      SecretHash hash = SecretHash.of(secret);
      Optional<ApiKey> existing = keys.findApiKeyBySecretHash(hash);
      if (existing.isPresent()) {
        if (!existing.get().scopes().contains(Scopes.ADMIN)) {
          // The operator believes this secret is the admin key; it would authenticate as the
          // weaker key that already has it, and no admin key would exist.
          throw new IllegalArgumentException(
              "TOKEN_AUTHORITY_ADMIN_KEY is the secret of API key " + existing.get().id()
                  + ", which is not an admin key; choose another secret");
        }
        if (existing.get().isRevoked()) {
          // Revocation is permanent: a revoked secret is never brought back to life.
          log.warn("the configured admin key {} is revoked; set a new TOKEN_AUTHORITY_ADMIN_KEY", existing.get().id());
        } else if (existing.get().isExpiredAt(now)) {
          log.warn("the configured admin key {} has expired; set a new TOKEN_AUTHORITY_ADMIN_KEY", existing.get().id());
        }
        return Optional.empty();
      }
      if (keys.insertApiKey(adminKey(hash, secrets.hint(secret), now))) {
        log.info("admin key from TOKEN_AUTHORITY_ADMIN_KEY stored");
      } // else another replica stored it at the same moment

      return Optional.empty();
    }
    if (hasActiveAdminKey(now)) {
      return Optional.empty();
    }
    String secret = secrets.generate();
    keys.insertApiKey(adminKey(SecretHash.of(secret), secrets.hint(secret), now));
    return Optional.of(secret);
  }

  /** Whether an admin key still authenticates: unrevoked and unexpired (an expired one never will again). */
  private boolean hasActiveAdminKey(Instant now) {
    ApiKeyCursor after = null;
    while (true) {
      List<ApiKey> page = keys.listApiKeys(Tenant.DEFAULT_ID, after, 500);
      for (ApiKey key : page) {
        if (key.scopes().contains(Scopes.ADMIN) && !key.isRevoked() && !key.isExpiredAt(now)) {
          return true;
        }
      }
      if (page.size() < 500) {
        return false;
      }
      ApiKey last = page.get(page.size() - 1);
      after = new ApiKeyCursor(last.createTime(), last.id());
    }
  }

  private static ApiKey adminKey(SecretHash hash, String hint, Instant now) {
    return new ApiKey(
        ApiKey.newId(), Tenant.DEFAULT_ID, "admin", List.of(Scopes.ADMIN), List.of(), hash,
        hint, now, null, null, null);
  }

  /**
   * The tenant a request names: empty or {@code active} is the caller's own. Naming another
   * tenant needs the admin scope; for anyone else it does not exist.
   */
  public String resolveTenant(Caller caller, String tenantRef) {
    if (tenantRef.isEmpty() || tenantRef.equals(Tenant.ACTIVE_ALIAS) || tenantRef.equals(caller.tenantId())) {
      return caller.tenantId();
    }
    if (!caller.isAdmin() || tenants.findTenant(tenantRef).isEmpty()) {
      throw AuthorityException.of(ErrorReason.NOT_FOUND, "no tenant with this id");
    }
    return tenantRef;
  }

  /** {@code tenant:createMillis:id}: tenant ids and key ids hold no colon. */
  private static String encodeCursor(String tenantId, ApiKeyCursor cursor) {
    String raw = tenantId + ":" + cursor.createTime().toEpochMilli() + ":" + cursor.id();
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The cursor of a page token of {@code tenantId}'s listing; null for anything else. */
  private static ApiKeyCursor decodeCursor(String token, String tenantId) {
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(":", -1);
      if (parts.length != 3 || !parts[0].equals(tenantId) || parts[2].isEmpty()) {
        return null;
      }
      return new ApiKeyCursor(Instant.ofEpochMilli(Long.parseLong(parts[1])), parts[2]);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
