package dev.tokenauthority.server.grpc;

import static dev.tokenauthority.server.testing.InProcessAuthority.violationFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import dev.tokenauthority.server.store.sqlite.SqliteDatabase;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.GetTenantRequest;
import dev.tokenauthority.v1.ListTenantsRequest;
import dev.tokenauthority.v1.ListTenantsResponse;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.SubscriptionStatus;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TenantAdminGrpc.TenantAdminBlockingStub;
import dev.tokenauthority.v1.TenantStatus;
import dev.tokenauthority.v1.UpdateTenantRequest;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TenantAdmin: AIP-style create, get, update with a FieldMask, list; admin scope only. */
class TenantAdminTest {
  private InProcessAuthority ta;
  private TenantAdminBlockingStub admin;

  @BeforeEach
  void setUp() {
    ta = InProcessAuthority.start();
    admin = ta.tenantAdmin();
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private Tenant create(Tenant.Builder t) {
    return admin.createTenant(CreateTenantRequest.newBuilder().setTenant(t).build()).getTenant();
  }

  @Test
  void createTenant_minimal_isActiveWithDefaultsAndTimes() {
    Tenant t = create(Tenant.newBuilder().setId("acme"));

    assertThat(t.getId()).isEqualTo("acme");
    assertThat(t.getStatus()).isEqualTo(TenantStatus.TENANT_STATUS_ACTIVE);
    assertThat(t.getSubscriptionStatus()).isEqualTo(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE);
    assertThat(t.hasCreateTime()).isTrue();
    assertThat(t.getUpdateTime()).isEqualTo(t.getCreateTime());
    assertThat(admin.getTenant(GetTenantRequest.newBuilder().setId("acme").build()).getTenant()).isEqualTo(t);
  }

  @Test
  void createTenant_everyPolicyField_roundTrips() {
    Tenant t = create(Tenant.newBuilder().setId("acme-2").setDisplayName("Acme Corp")
        .setStatus(TenantStatus.TENANT_STATUS_SUSPENDED)
        .setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE)
        .addEnabledModules("chat").addEnabledModules("https://voice.example.com")
        .setSessionTtlDefaultSeconds(120).setSessionTtlMaxSeconds(900)
        .setMintRatePerMinute(60).setMintRatePerUserPerHour(10).setMonthlySessionQuota(50_000));

    Tenant read = admin.getTenant(GetTenantRequest.newBuilder().setId("acme-2").build()).getTenant();
    assertThat(read).isEqualTo(t);
    assertThat(read.getEnabledModulesList()).containsExactly("chat", "https://voice.example.com");
    assertThat(read.getMonthlySessionQuota()).isEqualTo(50_000);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "Acme", "acme_corp", "-acme", "acme-", "a b", "ä"})
  void createTenant_badId_isInvalidRequestNamingTheId(String id) {
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> create(Tenant.newBuilder().setId(id)));
    assertThat(violationFields(e)).containsExactly("tenant.id");
  }

  @Test
  void createTenant_idOf63_isAccepted_64_isNot() {
    create(Tenant.newBuilder().setId("a".repeat(63)));
    ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> create(Tenant.newBuilder().setId("a".repeat(64))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"active", "self", "current", "all"})
  void createTenant_reservedId_isInvalidRequestNamingTheId(String id) {
    // "active" names the caller's own tenant in tenant_id: a tenant with that id could never be managed.
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> create(Tenant.newBuilder().setId(id)));
    assertThat(violationFields(e)).containsExactly("tenant.id");
    assertThat(e.getStatus().getDescription()).contains("reserved");
  }

  @Test
  void createTenant_existingId_isAlreadyExistsAndKeepsTheOriginal() {
    create(Tenant.newBuilder().setId("acme").setDisplayName("first"));
    ta.assertFails(Code.ALREADY_EXISTS, "ALREADY_EXISTS", () -> create(Tenant.newBuilder().setId("acme").setDisplayName("second")));
    assertThat(admin.getTenant(GetTenantRequest.newBuilder().setId("acme").build()).getTenant().getDisplayName()).isEqualTo("first");
  }

  @Test
  void createTenant_badPolicy_namesEveryBadField_andTtlIsInvalidTtl() {
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL", () -> create(Tenant.newBuilder().setId("acme")
        .setSessionTtlMaxSeconds(86_401).setMintRatePerMinute(-1).addEnabledModules("has space")));
    assertThat(violationFields(e)).containsExactlyInAnyOrder(
        "tenant.session_ttl_max_seconds", "tenant.mint_rate_per_minute", "tenant.enabled_modules[0]");
  }

  @Test
  void createTenant_defaultTtlAboveMax_isInvalidTtlNamingTheRange() {
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL", () -> create(Tenant.newBuilder().setId("acme")
        .setSessionTtlMaxSeconds(600).setSessionTtlDefaultSeconds(601)));
    assertThat(violationFields(e)).containsExactly("tenant.session_ttl_default_seconds");
    assertThat(e.getStatus().getDescription()).contains("600");
  }

  @Test
  void createTenant_withoutTenant_isInvalidRequest() {
    ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> admin.createTenant(CreateTenantRequest.getDefaultInstance()));
  }

  @Test
  void getTenant_unknown_isNotFound() {
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> admin.getTenant(GetTenantRequest.newBuilder().setId("nope").build()));
  }

  @Test
  void updateTenant_changesOnlyTheMaskedFields() {
    Tenant before = create(Tenant.newBuilder().setId("acme").setDisplayName("Acme").setMintRatePerMinute(60));
    ta.clock().advance(java.time.Duration.ofSeconds(5));

    Tenant after = ta.updateTenant(Tenant.newBuilder().setId("acme").setDisplayName("ignored")
        .setStatus(TenantStatus.TENANT_STATUS_SUSPENDED).setMintRatePerMinute(0).build(), "status", "mint_rate_per_minute");

    assertThat(after.getStatus()).isEqualTo(TenantStatus.TENANT_STATUS_SUSPENDED);
    assertThat(after.getMintRatePerMinute()).isZero();
    assertThat(after.getDisplayName()).isEqualTo("Acme");
    assertThat(after.getCreateTime()).isEqualTo(before.getCreateTime());
    assertThat(com.google.protobuf.util.Timestamps.compare(after.getUpdateTime(), before.getUpdateTime())).isPositive();
    assertThat(admin.getTenant(GetTenantRequest.newBuilder().setId("acme").build()).getTenant()).isEqualTo(after);
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "sqlite"})
  void updateTenant_concurrentUpdatesOfDifferentFields_bothLand(String storeKind, @TempDir Path dataDir) throws Exception {
    // A suspension racing a rate change: each read the tenant, and the later write used to put
    // back the status the earlier had changed, answering OK to both.
    InProcessAuthority.Builder builder = InProcessAuthority.builder().directExecutor(false);
    if (storeKind.equals("sqlite")) {
      builder.store(new JdbcStore(StoreKind.SQLITE, SqliteDatabase.open(dataDir.resolve(SqliteStores.FILE_NAME), Duration.ofSeconds(10))));
    }
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (InProcessAuthority racing = builder.start()) {
      racing.tenantAdmin().createTenant(CreateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("race")).build());
      for (int round = 1; round <= 40; round++) {
        racing.updateTenant(Tenant.newBuilder().setId("race").setStatus(TenantStatus.TENANT_STATUS_ACTIVE).build(), "status");
        int rate = round;
        CyclicBarrier start = new CyclicBarrier(2);
        Future<?> suspend = pool.submit(() -> {
          start.await();
          return racing.updateTenant(Tenant.newBuilder().setId("race").setStatus(TenantStatus.TENANT_STATUS_SUSPENDED).build(), "status");
        });
        Future<?> limit = pool.submit(() -> {
          start.await();
          return racing.updateTenant(Tenant.newBuilder().setId("race").setMintRatePerMinute(rate).build(), "mint_rate_per_minute");
        });
        suspend.get(10, TimeUnit.SECONDS);
        limit.get(10, TimeUnit.SECONDS);

        Tenant stored = racing.tenantAdmin().getTenant(GetTenantRequest.newBuilder().setId("race").build()).getTenant();
        assertThat(stored.getStatus()).as("round %d", round).isEqualTo(TenantStatus.TENANT_STATUS_SUSPENDED);
        assertThat(stored.getMintRatePerMinute()).as("round %d", round).isEqualTo(rate);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void createOrUpdate_withAStatusNumberTheEnumDoesNotName_isInvalidRequest_notReadAsNotGiven() {
    StatusRuntimeException created = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> create(Tenant.newBuilder().setId("odd").setStatusValue(7)));
    assertThat(violationFields(created)).containsExactly("tenant.status");
    create(Tenant.newBuilder().setId("acme"));

    StatusRuntimeException masked = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> ta.updateTenant(Tenant.newBuilder().setId("acme").setSubscriptionStatusValue(5).build(), "subscription_status"));
    StatusRuntimeException unmasked = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> admin.updateTenant(UpdateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("acme").setStatusValue(7)).build()));

    assertThat(violationFields(masked)).containsExactly("tenant.subscription_status");
    assertThat(violationFields(unmasked)).containsExactly("tenant.status");
    // Outside the mask it is ignored, as every field there is (AIP-134).
    Tenant renamed = ta.updateTenant(Tenant.newBuilder().setId("acme").setDisplayName("Acme").setStatusValue(7).build(), "display_name");
    assertThat(renamed.getDisplayName()).isEqualTo("Acme");
    assertThat(renamed.getStatus()).isEqualTo(TenantStatus.TENANT_STATUS_ACTIVE);
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> admin.getTenant(GetTenantRequest.newBuilder().setId("odd").build()));
  }

  @Test
  void updateTenant_star_replacesEveryMutableField() {
    create(Tenant.newBuilder().setId("acme").setDisplayName("Acme").setMintRatePerMinute(60).addEnabledModules("chat"));
    Tenant after = ta.updateTenant(Tenant.newBuilder().setId("acme").setStatus(TenantStatus.TENANT_STATUS_ACTIVE)
        .setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE).build(), "*");
    assertThat(after.getDisplayName()).isEmpty();
    assertThat(after.getMintRatePerMinute()).isZero();
    assertThat(after.getEnabledModulesList()).isEmpty();
  }

  @Test
  void updateTenant_noMask_changesThePopulatedFields() {
    create(Tenant.newBuilder().setId("acme").setDisplayName("Acme").setMintRatePerMinute(60));
    Tenant after = admin.updateTenant(UpdateTenantRequest.newBuilder()
        .setTenant(Tenant.newBuilder().setId("acme").setMonthlySessionQuota(10)).build()).getTenant();
    assertThat(after.getMonthlySessionQuota()).isEqualTo(10);
    assertThat(after.getMintRatePerMinute()).isEqualTo(60);
    assertThat(after.getDisplayName()).isEqualTo("Acme");
  }

  @ParameterizedTest
  @ValueSource(strings = {"id", "create_time", "colour"})
  void updateTenant_immutableOrUnknownPath_isInvalidRequestNamingTheMask(String path) {
    create(Tenant.newBuilder().setId("acme"));
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () ->
        ta.updateTenant(Tenant.newBuilder().setId("acme").build(), path));
    assertThat(violationFields(e)).containsExactly("update_mask");
  }

  @Test
  void updateTenant_statusUnspecifiedInMask_isInvalidRequest() {
    create(Tenant.newBuilder().setId("acme"));
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () ->
        ta.updateTenant(Tenant.newBuilder().setId("acme").build(), "status"));
    assertThat(violationFields(e)).containsExactly("tenant.status");
  }

  @Test
  void getOrUpdateTenant_withoutAnId_isInvalidRequestNamingTheField_notNotFound() {
    StatusRuntimeException get =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> admin.getTenant(GetTenantRequest.getDefaultInstance()));
    assertThat(InProcessAuthority.violationFields(get)).containsExactly("id");
    StatusRuntimeException update = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () ->
        ta.updateTenant(Tenant.newBuilder().setDisplayName("x").build(), "display_name"));
    assertThat(InProcessAuthority.violationFields(update)).containsExactly("tenant.id");
  }

  @Test
  void updateTenant_unknown_isNotFound() {
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () ->
        ta.updateTenant(Tenant.newBuilder().setId("nope").setDisplayName("x").build(), "display_name"));
  }

  @Test
  void listTenants_pagesThroughAllInIdOrder() {
    for (String id : List.of("delta", "alpha", "charlie", "bravo", "echo")) {
      create(Tenant.newBuilder().setId(id));
    }
    List<String> seen = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListTenantsResponse page = admin.listTenants(ListTenantsRequest.newBuilder().setPageSize(2).setPageToken(token).build());
      page.getTenantsList().forEach(t -> seen.add(t.getId()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(seen).containsExactly("alpha", "bravo", "charlie", "default", "delta", "echo");
    assertThat(pages).isEqualTo(3);
  }

  @Test
  void listTenants_pageSizeAboveTheMaximum_isTheMaximum() {
    // AIP-158: coerced, not refused. 1,001 tenants with "default", so a larger page would show.
    for (int i = 0; i < 1000; i++) {
      ta.createTenant(String.format("t%04d", i));
    }
    ListTenantsResponse page = admin.listTenants(ListTenantsRequest.newBuilder().setPageSize(5000).build());
    assertThat(page.getTenantsCount()).isEqualTo(1000);
    assertThat(admin.listTenants(ListTenantsRequest.newBuilder().setPageSize(5000).setPageToken(page.getNextPageToken()).build())
        .getTenantsCount()).isEqualTo(1);
  }

  @Test
  void listTenants_badPageTokenOrSize_isInvalidRequest() {
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () ->
        admin.listTenants(ListTenantsRequest.newBuilder().setPageSize(-1).setPageToken("%%%").build()));
    assertThat(violationFields(e)).containsExactlyInAnyOrder("page_size", "page_token");
  }

  @Test
  void everyTenantAdminMethod_withoutAdminScope_isScopeNotGranted() {
    String keyAdmin = ta.createKey("keys:write", "keys:read", "sessions:mint", "sessions:redeem");
    TenantAdminBlockingStub notAdmin = ta.tenantAdmin(keyAdmin);
    List<Runnable> calls = List.of(
        () -> notAdmin.createTenant(CreateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("x")).build()),
        () -> notAdmin.getTenant(GetTenantRequest.newBuilder().setId("default").build()),
        () -> notAdmin.updateTenant(UpdateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("default"))
            .setUpdateMask(FieldMask.newBuilder().addPaths("display_name")).build()),
        () -> notAdmin.listTenants(ListTenantsRequest.getDefaultInstance()),
        () -> notAdmin.rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance()));
    for (Runnable call : calls) {
      ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", call::run);
    }
  }

  @Test
  void rotateSigningKey_newKidSignsNewTokens_andOldTokensStillRedeem() {
    String key = ta.createKey("sessions:mint", "sessions:redeem");
    String old = ta.mint(key, "u1").getToken();

    String kid = admin.rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance()).getKid();

    String fresh = ta.mint(key, "u2").getToken();
    assertThat(dev.tokenauthority.server.testing.TokenParts.of(fresh).header().getFieldsOrThrow("kid").getStringValue())
        .isEqualTo(kid);
    assertThat(ta.stub(key).getJwks(dev.tokenauthority.v1.GetJwksRequest.getDefaultInstance()).getKeysCount()).isEqualTo(2);
    ta.stub(key).redeem(dev.tokenauthority.v1.RedeemRequest.newBuilder().setToken(old).build());
    ta.stub(key).redeem(dev.tokenauthority.v1.RedeemRequest.newBuilder().setToken(fresh).build());
  }
}
