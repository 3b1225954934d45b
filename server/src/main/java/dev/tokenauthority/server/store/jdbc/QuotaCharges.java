package dev.tokenauthority.server.store.jdbc;

import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Redemptions counted against a tenant's monthly quota in {@code tenant_usage}, one use per
 * charge, never beyond the quota. A charge on its own is one upsert, committed without waiting
 * for a WAL flush (as rate limits are): the row lock keeps the count exact across replicas and
 * is held for the statement alone, not across a flush; a crash of the database may forget the
 * last fraction of a second of charges (docs/design.md). On PostgreSQL under load, the charges
 * waiting at that moment go in one statement that counts as many of each tenant's month as its
 * quota still allows, in the order they came.
 */
final class QuotaCharges {
  /** One use, if the month's count is below the quota; a row comes back only when it was counted. */
  private static final String CHARGE_ONE =
      "INSERT INTO tenant_usage (tenant_id, month, redemptions) VALUES (?, ?, 1) ON CONFLICT (tenant_id, month)"
          + " DO UPDATE SET redemptions = tenant_usage.redemptions + 1 WHERE tenant_usage.redemptions < ?"
          + " RETURNING redemptions";

  /**
   * n uses of each tenant's month at once (PostgreSQL): the rows are locked in key order (so two
   * groups, of this or another replica, never wait on each other in a cycle) and read as the lock
   * found them; k = min(n, quota - count) uses are counted. A month without a row is not in the
   * answer.
   */
  private static final String CHARGE_MANY =
      "WITH q AS (SELECT * FROM unnest(?::text[], ?::text[], ?::int8[], ?::int8[]) AS q(tenant_id, month, n, quota)),"
          + " cur AS (SELECT u.tenant_id, u.month, u.redemptions FROM tenant_usage u"
          + " WHERE (u.tenant_id, u.month) IN (SELECT tenant_id COLLATE \"C\", month COLLATE \"C\" FROM q)"
          + " ORDER BY u.tenant_id, u.month FOR UPDATE),"
          + " calc AS (SELECT cur.tenant_id, cur.month, LEAST(q.n, GREATEST(0, q.quota - cur.redemptions)) AS k"
          + " FROM cur JOIN q ON q.tenant_id COLLATE \"C\" = cur.tenant_id AND q.month COLLATE \"C\" = cur.month),"
          + " counted AS (UPDATE tenant_usage u SET redemptions = u.redemptions + calc.k FROM calc"
          + " WHERE u.tenant_id = calc.tenant_id AND u.month = calc.month AND calc.k > 0)"
          + " SELECT tenant_id, month, k FROM calc";

  /** A count taken back: its use could not be taken after all. */
  private static final String UNCHARGE =
      "UPDATE tenant_usage SET redemptions = redemptions - 1 WHERE tenant_id = ? AND month = ? AND redemptions > 0";

  /** Rows for the months a group found absent, at 0. */
  private static final String CREATE_MANY =
      "INSERT INTO tenant_usage (tenant_id, month, redemptions) SELECT unnest(?::text[]), unnest(?::text[]), 0"
          + " ON CONFLICT (tenant_id, month) DO NOTHING";

  private final Database db;
  private final Database.Batch<QuotaCharge, Boolean> charges;

  QuotaCharges(Database db) {
    this.db = db;
    this.charges = db.unflushedBatch(QuotaCharges::chargeOne, QuotaCharges::chargeMany);
  }

  /** Counts one use; completes with whether the quota still allowed it. */
  CompletableFuture<Boolean> charge(QuotaCharge quota) {
    return charges.submit(quota);
  }

  /** Takes back one counted use, committed as a charge is. */
  CompletableFuture<Void> uncharge(QuotaCharge quota) {
    return db.writeUnflushedStatementAsync(
        s -> {
          PreparedStatement ps = s.prepare(UNCHARGE);
          ps.setString(1, quota.tenantId());
          ps.setString(2, quota.month());
          ps.executeUpdate();
          return null;
        });
  }

  /** One use, as one statement: atomic alone, or a part of the caller's transaction. */
  static Boolean chargeOne(Database.Statements s, QuotaCharge q) throws SQLException {
    PreparedStatement ps = s.prepare(CHARGE_ONE);
    ps.setString(1, q.tenantId());
    ps.setString(2, q.month());
    ps.setLong(3, q.limit());
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /**
   * The group's charges: each month's uses in the order they came, against the quota of its
   * first charge ({@link KeyedRowGroups}). Months without a row get one, then go again; a charge
   * whose month comes with another quota in this group (the tenant's quota just changed) goes in
   * the next statement.
   */
  private static List<Boolean> chargeMany(Database.Statements s, List<QuotaCharge> items) throws SQLException {
    return KeyedRowGroups.run(
        new Boolean[items.size()],
        (open, results) -> chargePass(s, items, open, results),
        open -> {
          // A count of 0, as no row is.
          PreparedStatement create = s.prepare(CREATE_MANY);
          create.setArray(1, s.array("text", open.stream().map(i -> items.get(i).tenantId()).toArray()));
          create.setArray(2, s.array("text", open.stream().map(i -> items.get(i).month()).toArray()));
          create.executeUpdate();
        },
        i -> chargeOne(s, items.get(i)));
  }

  /**
   * One statement over the open charges, grouped by tenant and month. Returns those still open:
   * the charges of months without a row, and those whose month comes with another quota.
   */
  private static List<Integer> chargePass(Database.Statements s, List<QuotaCharge> items, List<Integer> open, Boolean[] results)
      throws SQLException {
    Map<List<String>, List<Integer>> byMonth = new LinkedHashMap<>();
    List<Integer> later = new ArrayList<>();
    for (int i : open) {
      QuotaCharge q = items.get(i);
      List<Integer> same = byMonth.computeIfAbsent(List.of(q.tenantId(), q.month()), k -> new ArrayList<>());
      if (same.isEmpty() || items.get(same.get(0)).limit() == q.limit()) {
        same.add(i);
      } else {
        later.add(i);
      }
    }
    int n = byMonth.size();
    String[] tenants = new String[n];
    String[] months = new String[n];
    Long[] uses = new Long[n];
    Long[] quotas = new Long[n];
    int m = 0;
    for (List<Integer> same : byMonth.values()) {
      QuotaCharge q = items.get(same.get(0));
      tenants[m] = q.tenantId();
      months[m] = q.month();
      uses[m] = (long) same.size();
      quotas[m] = q.limit();
      m++;
    }
    PreparedStatement ps = s.prepare(CHARGE_MANY);
    ps.setArray(1, s.array("text", tenants));
    ps.setArray(2, s.array("text", months));
    ps.setArray(3, s.array("int8", uses));
    ps.setArray(4, s.array("int8", quotas));
    List<Integer> stillOpen = new ArrayList<>(later);
    Map<List<String>, Long> counted = new LinkedHashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        counted.put(List.of(rs.getString(1), rs.getString(2)), rs.getLong(3));
      }
    }
    for (Map.Entry<List<String>, List<Integer>> month : byMonth.entrySet()) {
      Long k = counted.get(month.getKey());
      if (k == null) {
        stillOpen.addAll(month.getValue());
        continue;
      }
      List<Integer> same = month.getValue();
      for (int j = 0; j < same.size(); j++) {
        results[same.get(j)] = j < k;
      }
    }
    stillOpen.sort(null);
    return stillOpen;
  }
}
