package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.v1.SubscriptionStatus;
import dev.tokenauthority.v1.TenantStatus;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Tenants between protobuf and the domain; an UNSPECIFIED enum becomes null, "not given", and so
 * does a number the enum does not name (a client's newer proto, or 7 over HTTP/JSON), which
 * {@link #unnamedValues} reports so that TenantService refuses it wherever the request sets the
 * field: read as "not given", a suspension sent as an unknown value was answered OK and changed
 * nothing.
 */
final class TenantMapper {
  private TenantMapper() {}

  static dev.tokenauthority.v1.Tenant toProto(Tenant t) {
    return dev.tokenauthority.v1.Tenant.newBuilder()
        .setId(t.id())
        .setDisplayName(t.displayName())
        .setStatus(TenantStatus.valueOf("TENANT_STATUS_" + t.status().name()))
        .setSubscriptionStatus(SubscriptionStatus.valueOf("SUBSCRIPTION_STATUS_" + t.subscriptionStatus().name()))
        .addAllEnabledModules(t.enabledModules())
        .setSessionTtlDefaultSeconds(t.sessionTtlDefaultSeconds())
        .setSessionTtlMaxSeconds(t.sessionTtlMaxSeconds())
        .setMintRatePerMinute(t.mintRatePerMinute())
        .setMintRatePerUserPerHour(t.mintRatePerUserPerHour())
        .setMonthlySessionQuota(t.monthlySessionQuota())
        .setCreateTime(ProtoMapper.timestamp(t.createTime()))
        .setUpdateTime(ProtoMapper.timestamp(t.updateTime()))
        .build();
  }

  /** The fields a request sets; times are the store's to set and are ignored. */
  static Tenant fromProto(dev.tokenauthority.v1.Tenant p) {
    return new Tenant(
        p.getId(),
        p.getDisplayName(),
        status(p.getStatus()),
        subscription(p.getSubscriptionStatus()),
        p.getEnabledModulesList(),
        p.getSessionTtlDefaultSeconds(),
        p.getSessionTtlMaxSeconds(),
        p.getMintRatePerMinute(),
        p.getMintRatePerUserPerHour(),
        p.getMonthlySessionQuota(),
        null,
        null);
  }

  /** The fields (proto names) holding an enum number their enum does not name. */
  static Set<String> unnamedValues(dev.tokenauthority.v1.Tenant p) {
    Set<String> unnamed = new LinkedHashSet<>();
    if (p.getStatus() == TenantStatus.UNRECOGNIZED) {
      unnamed.add("status");
    }
    if (p.getSubscriptionStatus() == SubscriptionStatus.UNRECOGNIZED) {
      unnamed.add("subscription_status");
    }
    return unnamed;
  }

  private static Tenant.Status status(TenantStatus s) {
    return switch (s) {
      case TENANT_STATUS_ACTIVE -> Tenant.Status.ACTIVE;
      case TENANT_STATUS_INACTIVE -> Tenant.Status.INACTIVE;
      case TENANT_STATUS_SUSPENDED -> Tenant.Status.SUSPENDED;
      case TENANT_STATUS_UNSPECIFIED, UNRECOGNIZED -> null;
    };
  }

  private static Tenant.SubscriptionStatus subscription(SubscriptionStatus s) {
    return switch (s) {
      case SUBSCRIPTION_STATUS_ACTIVE -> Tenant.SubscriptionStatus.ACTIVE;
      case SUBSCRIPTION_STATUS_PAST_DUE -> Tenant.SubscriptionStatus.PAST_DUE;
      case SUBSCRIPTION_STATUS_CANCELLED -> Tenant.SubscriptionStatus.CANCELLED;
      case SUBSCRIPTION_STATUS_UNSPECIFIED, UNRECOGNIZED -> null;
    };
  }
}
