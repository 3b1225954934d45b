package dev.tokenauthority.server.tenant;

import java.util.List;
import java.util.Optional;

/** Storage of tenants. Implementations are thread-safe. */
public interface TenantStore {
  /** The tenant with this id, if any. */
  Optional<Tenant> findTenant(String id);

  /**
   * Stores a new tenant once it is committed.
   *
   * @return false (and stores nothing) when a tenant with this id exists already
   */
  boolean insertTenant(Tenant tenant);

  /**
   * Replaces a stored tenant.
   *
   * @return false when no tenant with this id exists
   */
  boolean updateTenant(Tenant tenant);

  /** Up to {@code limit} tenants with ids greater than {@code afterId} (empty: from the start), by id. */
  List<Tenant> listTenants(String afterId, int limit);
}
