package dev.tokenauthority.client;

import dev.tokenauthority.v1.SubscriptionStatus;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TenantStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A tenant of the authority and its policy. Zero in a numeric policy field means the
 * deployment default (TTLs) or no limit (rates, quota).
 */
public final class TenantInfo {
  /** Whether a tenant may use the service. */
  public enum Status {
    ACTIVE,
    INACTIVE,
    SUSPENDED,
    /** Not set, or a status this client does not know. */
    UNKNOWN;

    static Status of(TenantStatus s) {
      return switch (s) {
        case TENANT_STATUS_ACTIVE -> ACTIVE;
        case TENANT_STATUS_INACTIVE -> INACTIVE;
        case TENANT_STATUS_SUSPENDED -> SUSPENDED;
        default -> UNKNOWN;
      };
    }

    TenantStatus toProto() {
      return switch (this) {
        case ACTIVE -> TenantStatus.TENANT_STATUS_ACTIVE;
        case INACTIVE -> TenantStatus.TENANT_STATUS_INACTIVE;
        case SUSPENDED -> TenantStatus.TENANT_STATUS_SUSPENDED;
        case UNKNOWN -> throw new IllegalArgumentException("UNKNOWN is not a status to set");
      };
    }
  }

  /** The tenant's billing state. */
  public enum Subscription {
    ACTIVE,
    PAST_DUE,
    CANCELLED,
    /** Not set, or a state this client does not know. */
    UNKNOWN;

    static Subscription of(SubscriptionStatus s) {
      return switch (s) {
        case SUBSCRIPTION_STATUS_ACTIVE -> ACTIVE;
        case SUBSCRIPTION_STATUS_PAST_DUE -> PAST_DUE;
        case SUBSCRIPTION_STATUS_CANCELLED -> CANCELLED;
        default -> UNKNOWN;
      };
    }

    SubscriptionStatus toProto() {
      return switch (this) {
        case ACTIVE -> SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE;
        case PAST_DUE -> SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE;
        case CANCELLED -> SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELLED;
        case UNKNOWN -> throw new IllegalArgumentException("UNKNOWN is not a subscription state to set");
      };
    }
  }

  private final Tenant proto;

  TenantInfo(Tenant proto) {
    this.proto = proto;
  }

  public String id() {
    return proto.getId();
  }

  public String displayName() {
    return proto.getDisplayName();
  }

  public Status status() {
    return Status.of(proto.getStatus());
  }

  public Subscription subscription() {
    return Subscription.of(proto.getSubscriptionStatus());
  }

  /** Allowed {@code audience} values for MintSession; empty means any. */
  public List<String> enabledModules() {
    return proto.getEnabledModulesList();
  }

  /** The TTL of a session when MintSession gives none; zero means the deployment default. */
  public Duration sessionTtlDefault() {
    return Duration.ofSeconds(proto.getSessionTtlDefaultSeconds());
  }

  /** The longest TTL MintSession may ask for; zero means the deployment default. */
  public Duration sessionTtlMax() {
    return Duration.ofSeconds(proto.getSessionTtlMaxSeconds());
  }

  /** MintSession calls per API key per minute; 0 means no limit. */
  public int mintRatePerMinute() {
    return proto.getMintRatePerMinute();
  }

  /** MintSession calls per external user per hour; 0 means no limit. */
  public int mintRatePerUserPerHour() {
    return proto.getMintRatePerUserPerHour();
  }

  /** Redemptions per calendar month (UTC); 0 means no limit. */
  public long monthlySessionQuota() {
    return proto.getMonthlySessionQuota();
  }

  public Instant createTime() {
    return ProtoTime.instant(proto.getCreateTime());
  }

  public Instant updateTime() {
    return ProtoTime.instant(proto.getUpdateTime());
  }

  /** The tenant as it came over the wire, e.g. to print it as JSON. */
  public Tenant toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return "TenantInfo[id=" + id() + ", status=" + status() + ", subscription=" + subscription() + "]";
  }
}
