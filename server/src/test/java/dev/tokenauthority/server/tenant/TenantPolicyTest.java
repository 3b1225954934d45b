package dev.tokenauthority.server.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.tenant.Tenant.Status;
import dev.tokenauthority.server.tenant.Tenant.SubscriptionStatus;
import dev.tokenauthority.server.tenant.TenantPolicy.Operation;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a tenant's status, subscription, modules and TTLs allow. */
class TenantPolicyTest {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  private static Tenant tenant(Status status, SubscriptionStatus subscription) {
    return new Tenant("t", "T", status, subscription, List.of(), 0, 0, 0, 0, 0, NOW, NOW);
  }

  private static Tenant ttls(long defaultSeconds, long maxSeconds) {
    return new Tenant("t", "T", Status.ACTIVE, SubscriptionStatus.ACTIVE, List.of(), defaultSeconds, maxSeconds, 0, 0, 0, NOW, NOW);
  }

  @Test
  void refusal_activeTenant_allowsEverything() {
    for (Operation op : Operation.values()) {
      assertThat(TenantPolicy.refusal(tenant(Status.ACTIVE, SubscriptionStatus.ACTIVE), op)).isEmpty();
    }
  }

  @Test
  void refusal_suspendedTenant_refusesMintAndRedeem_butStillManagesKeys() {
    Tenant t = tenant(Status.SUSPENDED, SubscriptionStatus.ACTIVE);

    assertThat(TenantPolicy.refusal(t, Operation.MINT)).contains(ErrorReason.TENANT_SUSPENDED);
    assertThat(TenantPolicy.refusal(t, Operation.REDEEM)).contains(ErrorReason.TENANT_SUSPENDED);
    assertThat(TenantPolicy.refusal(t, Operation.CREATE_KEY)).contains(ErrorReason.TENANT_SUSPENDED);
    assertThat(TenantPolicy.refusal(t, Operation.MANAGE)).isEmpty();
  }

  @Test
  void refusal_inactiveTenant_isTenantInactive() {
    assertThat(TenantPolicy.refusal(tenant(Status.INACTIVE, SubscriptionStatus.ACTIVE), Operation.REDEEM))
        .contains(ErrorReason.TENANT_INACTIVE);
  }

  @Test
  void refusal_pastDue_refusesOnlyNewMints() {
    Tenant t = tenant(Status.ACTIVE, SubscriptionStatus.PAST_DUE);

    assertThat(TenantPolicy.refusal(t, Operation.MINT)).contains(ErrorReason.SUBSCRIPTION_PAST_DUE);
    assertThat(TenantPolicy.refusal(t, Operation.REDEEM)).isEmpty();
    assertThat(TenantPolicy.refusal(t, Operation.MANAGE)).isEmpty();
  }

  @Test
  void refusal_cancelled_refusesEverythingEvenManagement() {
    for (Operation op : Operation.values()) {
      assertThat(TenantPolicy.refusal(tenant(Status.SUSPENDED, SubscriptionStatus.CANCELLED), op))
          .contains(ErrorReason.SUBSCRIPTION_CANCELLED);
    }
  }

  @Test
  void allowsAudience_noModuleList_allowsAny_aListOnlyItsModules() {
    Tenant open = tenant(Status.ACTIVE, SubscriptionStatus.ACTIVE);
    Tenant chatOnly = new Tenant("t", "T", Status.ACTIVE, SubscriptionStatus.ACTIVE, List.of("chat"), 0, 0, 0, 0, 0, NOW, NOW);

    assertThat(TenantPolicy.allowsAudience(open, "")).isTrue();
    assertThat(TenantPolicy.allowsAudience(open, "billing")).isTrue();
    assertThat(TenantPolicy.allowsAudience(chatOnly, "chat")).isTrue();
    assertThat(TenantPolicy.allowsAudience(chatOnly, "billing")).isFalse();
    assertThat(TenantPolicy.allowsAudience(chatOnly, "")).isFalse();
  }

  @Test
  void ttls_unset_areTheDeploymentDefaults() {
    assertThat(TenantPolicy.defaultTtlSeconds(ttls(0, 0))).isEqualTo(TenantPolicy.DEFAULT_TTL_SECONDS);
    assertThat(TenantPolicy.maxTtlSeconds(ttls(0, 0))).isEqualTo(TenantPolicy.DEFAULT_MAX_TTL_SECONDS);
  }

  @Test
  void ttls_maxAboveTheCeiling_isCapped_andTheDefaultNeverExceedsTheMax() {
    assertThat(TenantPolicy.maxTtlSeconds(ttls(0, 10 * TenantPolicy.MAX_TTL_SECONDS))).isEqualTo(TenantPolicy.MAX_TTL_SECONDS);
    assertThat(TenantPolicy.defaultTtlSeconds(ttls(600, 120))).isEqualTo(120);
  }
}
