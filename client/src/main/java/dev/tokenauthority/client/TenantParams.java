package dev.tokenauthority.client;

import com.google.protobuf.FieldMask;
import dev.tokenauthority.v1.Tenant;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The fields of a tenant to create or change. On update only the fields set here change (they
 * become the request's {@code update_mask}); setting a field to its zero value, or the modules
 * to an empty list, changes it to that. Immutable; made by {@link #builder}.
 */
public final class TenantParams {
  private final Tenant fields;
  private final List<String> paths;

  private TenantParams(Tenant fields, Set<String> paths) {
    this.fields = fields;
    this.paths = List.copyOf(paths);
  }

  public static Builder builder() {
    return new Builder();
  }

  Tenant toProto(String id) {
    return fields.toBuilder().setId(id).build();
  }

  /** The proto field paths set, in the order they were set. */
  FieldMask updateMask() {
    return FieldMask.newBuilder().addAllPaths(paths).build();
  }

  /** Whether it sets no field at all (an update needs at least one). */
  public boolean isEmpty() {
    return paths.isEmpty();
  }

  /** Builds {@link TenantParams}. */
  public static final class Builder {
    private final Tenant.Builder b = Tenant.newBuilder();
    private final Set<String> paths = new LinkedHashSet<>();

    private Builder() {}

    public Builder displayName(String displayName) {
      b.setDisplayName(Objects.requireNonNull(displayName, "displayName"));
      paths.add("display_name");
      return this;
    }

    public Builder status(TenantInfo.Status status) {
      b.setStatus(status.toProto());
      paths.add("status");
      return this;
    }

    public Builder subscription(TenantInfo.Subscription subscription) {
      b.setSubscriptionStatus(subscription.toProto());
      paths.add("subscription_status");
      return this;
    }

    /** Allowed {@code audience} values; an empty list allows any. */
    public Builder enabledModules(Collection<String> modules) {
      b.clearEnabledModules().addAllEnabledModules(List.copyOf(modules));
      paths.add("enabled_modules");
      return this;
    }

    /** The TTL of a token minted without one; {@link Duration#ZERO} means the deployment's default (300 s). */
    public Builder sessionTtlDefault(Duration ttl) {
      b.setSessionTtlDefaultSeconds(wholeSeconds(ttl, "sessionTtlDefault"));
      paths.add("session_ttl_default_seconds");
      return this;
    }

    /** The longest TTL a token may ask for; {@link Duration#ZERO} means the deployment's default (3600 s). */
    public Builder sessionTtlMax(Duration ttl) {
      b.setSessionTtlMaxSeconds(wholeSeconds(ttl, "sessionTtlMax"));
      paths.add("session_ttl_max_seconds");
      return this;
    }

    /** Token times have second precision: 1.5 s would be 1 s, and 0.5 s the default, so both are refused. */
    private static long wholeSeconds(Duration ttl, String name) {
      if (ttl.isNegative() || ttl.getNano() != 0) {
        throw new IllegalArgumentException(
            name + " must be zero (the deployment's default) or a positive number of whole seconds, not " + ttl);
      }
      return ttl.getSeconds();
    }

    public Builder mintRatePerMinute(int rate) {
      b.setMintRatePerMinute(rate);
      paths.add("mint_rate_per_minute");
      return this;
    }

    public Builder mintRatePerUserPerHour(int rate) {
      b.setMintRatePerUserPerHour(rate);
      paths.add("mint_rate_per_user_per_hour");
      return this;
    }

    public Builder monthlySessionQuota(long quota) {
      b.setMonthlySessionQuota(quota);
      paths.add("monthly_session_quota");
      return this;
    }

    public TenantParams build() {
      return new TenantParams(b.build(), paths);
    }
  }
}
