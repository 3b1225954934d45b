package dev.tokenauthority.server.tenant;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import java.util.Optional;

/**
 * What a tenant's status, subscription and modules allow, in one place: every RPC asks here
 * before it acts for a tenant.
 *
 * <ul>
 *   <li>SUSPENDED or INACTIVE: no mint, no redeem (outstanding tokens included), no new key;
 *       listing and revoking keys stay possible, so a leaked key can still be revoked.
 *   <li>Subscription PAST_DUE: no new mints; tokens already out still redeem.
 *   <li>Subscription CANCELLED: nothing at all.
 * </ul>
 */
public final class TenantPolicy {
  /** A session's TTL when neither the request nor the tenant gives one. */
  public static final long DEFAULT_TTL_SECONDS = 300;
  /** The longest TTL when the tenant sets none. */
  public static final long DEFAULT_MAX_TTL_SECONDS = 3600;
  /** The longest session any tenant may allow: retired signing keys verify for this long. */
  public static final long MAX_TTL_SECONDS = 86_400;

  private TenantPolicy() {}

  /** What a call does for its tenant. */
  public enum Operation {
    MINT,
    REDEEM,
    /** Introspection: a refusal makes the token inactive rather than failing the call. */
    INTROSPECT,
    CREATE_KEY,
    /** Listing and revoking keys, revoking sessions, reading the JWK Set. */
    MANAGE
  }

  /** The reason the tenant may not do {@code op}, if any. */
  public static Optional<ErrorReason> refusal(Tenant tenant, Operation op) {
    if (tenant.subscriptionStatus() == Tenant.SubscriptionStatus.CANCELLED) {
      return Optional.of(ErrorReason.SUBSCRIPTION_CANCELLED);
    }
    if (op != Operation.MANAGE) {
      if (tenant.status() == Tenant.Status.SUSPENDED) {
        return Optional.of(ErrorReason.TENANT_SUSPENDED);
      }
      if (tenant.status() == Tenant.Status.INACTIVE) {
        return Optional.of(ErrorReason.TENANT_INACTIVE);
      }
    }
    if (op == Operation.MINT && tenant.subscriptionStatus() == Tenant.SubscriptionStatus.PAST_DUE) {
      return Optional.of(ErrorReason.SUBSCRIPTION_PAST_DUE);
    }
    return Optional.empty();
  }

  /** Throws the refusal of {@link #refusal}, if any. */
  public static void check(Tenant tenant, Operation op) {
    refusal(tenant, op).ifPresent(reason -> {
      throw AuthorityException.of(reason, message(reason));
    });
  }

  /** The message of a tenant refusal. */
  public static String message(ErrorReason reason) {
    return switch (reason) {
      case SUBSCRIPTION_CANCELLED -> "the tenant's subscription is cancelled";
      case SUBSCRIPTION_PAST_DUE -> "the tenant's subscription is past due: no new sessions until it is paid";
      case TENANT_SUSPENDED -> "the tenant is suspended";
      case TENANT_INACTIVE -> "the tenant is inactive";
      case MODULE_NOT_ENABLED -> "the audience is not one of the tenant's enabled modules";
      default -> reason.name();
    };
  }

  /**
   * Whether a token for {@code audience} may be minted or redeemed: any audience when the
   * tenant enables no module list; otherwise a non-empty audience from the list (a token
   * without an audience would be redeemable by every module).
   */
  public static boolean allowsAudience(Tenant tenant, String audience) {
    return tenant.enabledModules().isEmpty() || tenant.enabledModules().contains(audience);
  }

  /** The tenant's maximum TTL as configured, or the default when it sets none; not yet capped. */
  static long configuredMaxTtlSeconds(Tenant tenant) {
    return tenant.sessionTtlMaxSeconds() > 0 ? tenant.sessionTtlMaxSeconds() : DEFAULT_MAX_TTL_SECONDS;
  }

  /** The longest TTL this tenant allows. */
  public static long maxTtlSeconds(Tenant tenant) {
    return Math.min(configuredMaxTtlSeconds(tenant), MAX_TTL_SECONDS);
  }

  /** The TTL of a session that asks for none. */
  public static long defaultTtlSeconds(Tenant tenant) {
    long ttl = tenant.sessionTtlDefaultSeconds() > 0 ? tenant.sessionTtlDefaultSeconds() : DEFAULT_TTL_SECONDS;
    return Math.min(ttl, maxTtlSeconds(tenant));
  }
}
