package dev.tokenauthority.server.tenant;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tenants as the hot path reads them: from a cache that keeps each tenant for a short time
 * (one second by default), so that a mint or redeem does not read the store for its tenant's
 * policy. A change made on this replica is seen at once; one made on another replica within
 * the cache time.
 */
public final class TenantDirectory {
  private final TenantStore store;
  private final long ttlNanos;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(Optional<Tenant> tenant, long loadedAtNanos) {}

  public TenantDirectory(TenantStore store, Duration ttl) {
    this.store = store;
    this.ttlNanos = ttl.toNanos();
  }

  /** The tenant with this id, if it exists. */
  public Optional<Tenant> find(String id) {
    long now = System.nanoTime();
    Cached cached = cache.get(id);
    if (cached != null && now - cached.loadedAtNanos() < ttlNanos) {
      return cached.tenant();
    }
    Optional<Tenant> tenant = store.findTenant(id);
    cache.put(id, new Cached(tenant, now));
    return tenant;
  }

  /** Forgets a tenant after this replica changed it. */
  public void invalidate(String id) {
    cache.remove(id);
  }

  public TenantStore store() {
    return store;
  }
}
