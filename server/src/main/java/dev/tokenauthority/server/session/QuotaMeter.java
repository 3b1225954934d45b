package dev.tokenauthority.server.session;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.tenant.Tenant;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Monthly redemption quotas (calendar months, UTC). Redemptions are counted by the store in the
 * same transaction that consumes the use, and only for tenants with a quota, so the count is
 * exact across replicas; MintSession refuses against a count cached for a short time.
 */
final class QuotaMeter {
  private final SessionStore store;
  private final long cacheNanos;
  private final Map<String, Cached> counts = new ConcurrentHashMap<>();

  private record Cached(String month, long redemptions, long loadedAtNanos) {}

  QuotaMeter(SessionStore store, Duration cacheTtl) {
    this.store = store;
    this.cacheNanos = cacheTtl.toNanos();
  }

  static String month(Instant now) {
    return YearMonth.from(now.atZone(ZoneOffset.UTC)).toString();
  }

  /** What a redeem of this tenant charges, or null when it has no quota. */
  QuotaCharge chargeFor(Tenant tenant, Instant now) {
    return tenant.monthlySessionQuota() > 0 ? new QuotaCharge(tenant.id(), month(now), tenant.monthlySessionQuota()) : null;
  }

  /** Throws QUOTA_EXCEEDED when the tenant has used up this month's quota. */
  void checkNotExhausted(Tenant tenant, Instant now) {
    if (tenant.monthlySessionQuota() <= 0) {
      return;
    }
    String month = month(now);
    long t = System.nanoTime();
    Cached c = counts.get(tenant.id());
    if (c == null || !c.month().equals(month) || t - c.loadedAtNanos() >= cacheNanos) {
      c = new Cached(month, store.countRedemptions(tenant.id(), month), t);
      counts.put(tenant.id(), c);
    }
    if (c.redemptions() >= tenant.monthlySessionQuota()) {
      throw exceeded(tenant, now);
    }
  }

  /** Remembers that a redeem found the quota used up, so that mints refuse at once. */
  void exhausted(QuotaCharge charge) {
    counts.put(charge.tenantId(), new Cached(charge.month(), charge.limit(), System.nanoTime()));
  }

  static AuthorityException exceeded(Tenant tenant, Instant now) {
    Instant nextMonth = YearMonth.from(now.atZone(ZoneOffset.UTC)).plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    // A limit's decision like a rate limit's, so that every transport sends the same headers.
    RateLimiter.Decision used = new RateLimiter.Decision(
        false, tenant.monthlySessionQuota(), 0, nextMonth, Duration.between(now, nextMonth));
    return AuthorityException.limited(
        ErrorReason.QUOTA_EXCEEDED,
        "the tenant has used its " + tenant.monthlySessionQuota() + " redemptions of " + month(now),
        Map.of("subject", "tenant:" + tenant.id(), "quota", String.valueOf(tenant.monthlySessionQuota())),
        used);
  }
}
