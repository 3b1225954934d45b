package dev.tokenauthority.server.store;

import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.ratelimit.RateLimitStore;
import dev.tokenauthority.server.session.SessionStore;
import dev.tokenauthority.server.signing.SigningKeyStore;
import dev.tokenauthority.server.tenant.TenantStore;

/**
 * Everything the authority persists, behind one small interface per concern. Every method of
 * every implementation is thread-safe; a write returns only after it is committed (durably,
 * for a persistent store); a failure to reach the backing database is a
 * {@link dev.tokenauthority.server.error.StoreUnavailableException}.
 */
public interface Store
    extends TenantStore, ApiKeyStore, SessionStore, SigningKeyStore, RateLimitStore, AutoCloseable {
  /** A short name for logs and health: {@code memory}, {@code sqlite}, ... */
  String kind();

  /**
   * Whether several server processes may share this store (PostgreSQL). Only then must state
   * such as rate-limit buckets live in it rather than in each process's memory.
   */
  default boolean isShared() {
    return false;
  }

  /** Whether the store can serve calls right now. */
  boolean isServing();

  /** Releases connections and threads; calls after this fail. */
  @Override
  void close();
}
