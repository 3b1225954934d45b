package dev.tokenauthority.server.store.jdbc;

import static dev.tokenauthority.server.store.jdbc.JdbcValues.join;
import static dev.tokenauthority.server.store.jdbc.JdbcValues.split;

import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Tenants in the {@code tenants} table. */
final class JdbcTenantStore implements TenantStore {
  private static final String TENANT_COLUMNS =
      "id, display_name, status, subscription_status, enabled_modules, session_ttl_default_seconds,"
          + " session_ttl_max_seconds, mint_rate_per_minute, mint_rate_per_user_per_hour,"
          + " monthly_session_quota, create_time, update_time";

  private final Database db;

  JdbcTenantStore(Database db) {
    this.db = db;
  }

  @Override
  public Optional<Tenant> findTenant(String id) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + TENANT_COLUMNS + " FROM tenants WHERE id = ?");
          ps.setString(1, id);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(tenant(rs)) : Optional.empty();
          }
        });
  }

  @Override
  public boolean insertTenant(Tenant t) {
    return db.write(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "INSERT INTO tenants (" + TENANT_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT DO NOTHING");
          bindTenant(ps, t);
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public boolean updateTenant(Tenant current, Tenant updated) {
    return db.write(
        s -> {
          PreparedStatement ps =
              s.prepare(
                  "UPDATE tenants SET id = ?, display_name = ?, status = ?, subscription_status = ?,"
                      + " enabled_modules = ?, session_ttl_default_seconds = ?, session_ttl_max_seconds = ?,"
                      + " mint_rate_per_minute = ?, mint_rate_per_user_per_hour = ?, monthly_session_quota = ?,"
                      + " create_time = ?, update_time = ? WHERE id = ? AND update_time = ?");
          bindTenant(ps, updated);
          ps.setString(13, current.id());
          ps.setLong(14, current.updateTime().toEpochMilli());
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public List<Tenant> listTenants(String afterId, int limit) {
    return db.read(
        s -> {
          PreparedStatement ps = s.prepare("SELECT " + TENANT_COLUMNS + " FROM tenants WHERE id > ? ORDER BY id LIMIT ?");
          ps.setString(1, afterId);
          ps.setInt(2, limit);
          List<Tenant> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(tenant(rs));
            }
          }
          return out;
        });
  }

  private static void bindTenant(PreparedStatement ps, Tenant t) throws SQLException {
    ps.setString(1, t.id());
    ps.setString(2, t.displayName());
    ps.setString(3, t.status().name());
    ps.setString(4, t.subscriptionStatus().name());
    ps.setString(5, join(t.enabledModules()));
    ps.setLong(6, t.sessionTtlDefaultSeconds());
    ps.setLong(7, t.sessionTtlMaxSeconds());
    ps.setInt(8, t.mintRatePerMinute());
    ps.setInt(9, t.mintRatePerUserPerHour());
    ps.setLong(10, t.monthlySessionQuota());
    ps.setLong(11, t.createTime().toEpochMilli());
    ps.setLong(12, t.updateTime().toEpochMilli());
  }

  private static Tenant tenant(ResultSet rs) throws SQLException {
    return new Tenant(
        rs.getString(1),
        rs.getString(2),
        Tenant.Status.valueOf(rs.getString(3)),
        Tenant.SubscriptionStatus.valueOf(rs.getString(4)),
        split(rs.getString(5)),
        rs.getLong(6),
        rs.getLong(7),
        rs.getInt(8),
        rs.getInt(9),
        rs.getLong(10),
        Instant.ofEpochMilli(rs.getLong(11)),
        Instant.ofEpochMilli(rs.getLong(12)));
  }
}
