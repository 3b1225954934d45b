package dev.tokenauthority.server.store;

import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.ratelimit.RateLimitStore;
import dev.tokenauthority.server.session.SessionStore;
import dev.tokenauthority.server.signing.SigningKeyStore;
import dev.tokenauthority.server.tenant.TenantStore;

/**
 * Everything the authority persists, as one small store per concern over one backing database.
 * Every operation of every implementation is thread-safe; a write is done only once it is
 * committed (durably, for a persistent store); a failure to reach the backing database is a
 * {@link dev.tokenauthority.server.error.StoreUnavailableException}.
 */
public interface Store extends AutoCloseable {
  TenantStore tenants();

  ApiKeyStore apiKeys();

  SessionStore sessions();

  SigningKeyStore signingKeys();

  /** Rate-limit buckets; the authority uses them only when the store {@link #isShared()}. */
  RateLimitStore rateLimits();

  /** Which store this is; its name is the one logs and health show. */
  StoreKind kind();

  /**
   * Whether several server processes may share this store (PostgreSQL). Only then must state
   * such as rate-limit buckets live in it rather than in each process's memory.
   */
  default boolean isShared() {
    return kind().shared();
  }

  /** Whether the store can serve calls right now. */
  boolean isServing();

  /** Releases connections and threads; calls after this fail. */
  @Override
  void close();
}
