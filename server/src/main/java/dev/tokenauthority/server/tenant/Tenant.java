package dev.tokenauthority.server.tenant;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A customer of the authority and its policy. Numeric limits of 0 mean "no limit"
 * (rates, quota) or "the deployment default" (TTLs).
 */
public record Tenant(
    String id,
    String displayName,
    Status status,
    SubscriptionStatus subscriptionStatus,
    List<String> enabledModules,
    long sessionTtlDefaultSeconds,
    long sessionTtlMaxSeconds,
    int mintRatePerMinute,
    int mintRatePerUserPerHour,
    long monthlySessionQuota,
    Instant createTime,
    Instant updateTime) {

  /** A tenant id: a DNS label, lowercase letters, digits and inner hyphens, 1 to 63 long. */
  public static final Pattern ID = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");

  /** The tenant that exists from the first start and owns the admin key. */
  public static final String DEFAULT_ID = "default";

  /**
   * The caller's own tenant where a request names one ({@code tenant_id: "active"}); a tenant
   * with this id could never be named, so it cannot be created.
   */
  public static final String ACTIVE_ALIAS = "active";

  /**
   * Ids CreateTenant refuses: the alias the API gives a meaning today, and the words it may give
   * one later ({@code self}, {@code current}, {@code all}), so that no tenant ever shadows one.
   */
  public static final Set<String> RESERVED_IDS = Set.of(ACTIVE_ALIAS, "self", "current", "all");

  /** Whether a tenant may use the service. */
  public enum Status {
    ACTIVE,
    INACTIVE,
    SUSPENDED
  }

  /** The tenant's billing state. */
  public enum SubscriptionStatus {
    ACTIVE,
    PAST_DUE,
    CANCELLED
  }

  public Tenant {
    enabledModules = List.copyOf(enabledModules);
  }

  /** A new active tenant with the deployment's default policy. */
  public static Tenant newDefault(String id, String displayName, Instant now) {
    return new Tenant(
        id, displayName, Status.ACTIVE, SubscriptionStatus.ACTIVE, List.of(), 0, 0, 0, 0, 0, now,
        now);
  }
}
