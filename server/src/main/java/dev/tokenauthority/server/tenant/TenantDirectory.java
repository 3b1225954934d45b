package dev.tokenauthority.server.tenant;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tenants as the hot path reads them: from a cache that keeps each tenant for a short time
 * ({@code Authority.Settings.CACHE_TTL}, 500 ms), so that a mint or redeem does not read the store for its tenant's
 * policy. A change made on this replica is seen at once; one made on another replica within
 * the cache time.
 */
public final class TenantDirectory {
  private final TenantStore store;
  private final long ttlNanos;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
  /** Counts this replica's changes, so that a read that began before one never caches what it read. */
  private final AtomicLong changes = new AtomicLong();

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
    long before = changes.get();
    Optional<Tenant> tenant = store.findTenant(id);
    Cached loaded = new Cached(tenant, now);
    // Cached only if no change on this replica (a suspension, say) raced this read: what was
    // read may be the old tenant. The check runs under the entry's lock, which invalidate's
    // remove also takes, so a stale copy is never seen by a call that starts after the change.
    cache.compute(id, (key, old) -> changes.get() == before ? loaded : old);
    return tenant;
  }

  /** Forgets a tenant after this replica changed it, including what a read in flight is about to cache. */
  public void invalidate(String id) {
    changes.incrementAndGet();
    cache.remove(id);
  }

  public TenantStore store() {
    return store;
  }
}
