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
   * Replaces the stored tenant {@code current} with {@code updated} (the same id) if it has not
   * changed since it was read: the stored tenant's update time is still {@code current}'s.
   * Callers make every update move the update time forward, so that two updates made from the
   * same read cannot both succeed and one silently undo the other.
   *
   * @return false when no tenant with this id exists, or it changed since {@code current}
   */
  boolean updateTenant(Tenant current, Tenant updated);

  /** Up to {@code limit} tenants with ids greater than {@code afterId} (empty: from the start), by id. */
  List<Tenant> listTenants(String afterId, int limit);
}
