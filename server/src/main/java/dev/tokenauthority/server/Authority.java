package dev.tokenauthority.server;

import dev.tokenauthority.contract.SessionTokens;
import dev.tokenauthority.server.apikey.ApiKeySecrets;
import dev.tokenauthority.server.apikey.ApiKeyService;
import dev.tokenauthority.server.ratelimit.MemoryRateLimitStore;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.session.SessionService;
import dev.tokenauthority.server.signing.Ed25519Provider;
import dev.tokenauthority.server.signing.SessionTokenCodec;
import dev.tokenauthority.server.signing.SigningKeys;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantDirectory;
import dev.tokenauthority.server.tenant.TenantPolicy;
import dev.tokenauthority.server.tenant.TenantService;
import java.security.Provider;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The domain graph on one store: API keys, sessions, signing keys and tenants, wired by plain
 * constructors. The gRPC server and the tests build on it alike.
 */
public final class Authority {
  /** The longest any session can live; retired signing keys are kept this long, plus leeway. */
  public static final Duration MAX_SESSION_TTL = Duration.ofSeconds(TenantPolicy.MAX_TTL_SECONDS);

  private final Store store;
  private final Clock clock;
  private final TenantDirectory tenants;
  private final SigningKeys signingKeys;
  private final SessionTokenCodec codec;
  private final ApiKeyService apiKeys;
  private final SessionService sessions;
  private final TenantService tenantAdmin;

  /** Settings of the domain that a deployment may change. */
  public record Settings(String apiKeyPrefix, String issuer, Duration cacheTtl, Duration leeway) {
    /**
     * How long API keys and tenants are cached per process: the bound on how long another
     * replica may still accept a key revoked (or a tenant suspended) on one, with room to
     * spare under the documented one second.
     */
    public static final Duration CACHE_TTL = Duration.ofMillis(500);

    /** {@code --api-key-prefix} unless set. */
    public static final String DEFAULT_API_KEY_PREFIX = "sk_";
    /** How far a token's times may be off another clock's: verification leeway, key retention beyond the longest TTL. */
    public static final Duration LEEWAY = Duration.ofSeconds(30);

    public static Settings defaults() {
      return new Settings(DEFAULT_API_KEY_PREFIX, SessionTokens.DEFAULT_ISSUER, CACHE_TTL, LEEWAY);
    }
  }

  public Authority(Store store, Settings settings, Clock clock) {
    this.store = store;
    this.clock = clock;
    Provider provider = new Ed25519Provider();
    this.tenants = new TenantDirectory(store.tenants(), settings.cacheTtl());
    ensureDefaultTenant();
    this.signingKeys = new SigningKeys(store.signingKeys(), provider, clock, MAX_SESSION_TTL.plus(settings.leeway()));
    this.codec = new SessionTokenCodec(signingKeys, provider, settings.issuer(), clock, settings.leeway());
    this.apiKeys = new ApiKeyService(store.apiKeys(), store.tenants(), new ApiKeySecrets(settings.apiKeyPrefix()), clock, settings.cacheTtl());
    // One process keeps rate-limit buckets in memory; replicas share them in the store.
    RateLimiter limiter = new RateLimiter(store.isShared() ? store.rateLimits() : new MemoryRateLimitStore());
    this.sessions =
        new SessionService(store.sessions(), store.apiKeys(), tenants, codec, clock, settings.leeway(), limiter, settings.cacheTtl());
    this.tenantAdmin = new TenantService(tenants, clock);
  }

  private void ensureDefaultTenant() {
    if (store.tenants().findTenant(Tenant.DEFAULT_ID).isEmpty()) {
      store.tenants().insertTenant(Tenant.newDefault(Tenant.DEFAULT_ID, "Default tenant", clock.instant()));
    }
  }

  /**
   * Makes sure an admin key exists (see {@link ApiKeyService#ensureAdminKey}).
   *
   * @return a newly generated admin secret, to show once
   */
  public Optional<String> ensureAdminKey(Optional<String> configuredSecret) {
    return apiKeys.ensureAdminKey(configuredSecret);
  }

  public Store store() {
    return store;
  }

  public Clock clock() {
    return clock;
  }

  public TenantDirectory tenants() {
    return tenants;
  }

  public SigningKeys signingKeys() {
    return signingKeys;
  }

  public SessionTokenCodec codec() {
    return codec;
  }

  public ApiKeyService apiKeys() {
    return apiKeys;
  }

  public SessionService sessions() {
    return sessions;
  }

  /** Tenants and their policy, for TenantAdmin. */
  public TenantService tenantService() {
    return tenantAdmin;
  }
}
