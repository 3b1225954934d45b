package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TenantAdmin RPCs through the client against the real server, per api.md.
 */
class TenantAdminClientTest {
  private InProcessAuthority ta;
  private TokenAuthorityClient admin;

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
    admin = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.adminSecret()).build();
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
  }

  @Test
  void tenantTtls_subSecondOrNegative_areRefused_zeroMeansTheDefault() {
    // Rounded to seconds, 1.5 s would be 1 s and 500 ms would be 0: the deployment's default.
    for (Duration bad : List.of(Duration.ofMillis(500), Duration.ofMillis(1500), Duration.ofSeconds(-60))) {
      assertThatThrownBy(() -> TenantParams.builder().sessionTtlMax(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> TenantParams.builder().sessionTtlDefault(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    TenantInfo created = admin.createTenant("zero", TenantParams.builder().sessionTtlDefault(Duration.ZERO).build());
    assertThat(created.sessionTtlDefault()).isEqualTo(Duration.ZERO);
  }

  @Test
  void createTenant_unsetStates_areActive_andGetReturnsIt() {
    TenantInfo created =
        admin.createTenant(
            "acme",
            TenantParams.builder()
                .displayName("Acme Corp")
                .enabledModules(List.of("roleplay"))
                .sessionTtlDefault(Duration.ofSeconds(60))
                .mintRatePerMinute(100)
                .build());
    TenantInfo got = admin.getTenant("acme");

    assertThat(created.id()).isEqualTo("acme");
    assertThat(created.status()).isEqualTo(TenantInfo.Status.ACTIVE);
    assertThat(created.subscription()).isEqualTo(TenantInfo.Subscription.ACTIVE);
    assertThat(created.createTime()).isEqualTo(TestClock.DEFAULT_START);
    assertThat(got.displayName()).isEqualTo("Acme Corp");
    assertThat(got.enabledModules()).containsExactly("roleplay");
    assertThat(got.sessionTtlDefault()).isEqualTo(Duration.ofSeconds(60));
    assertThat(got.mintRatePerMinute()).isEqualTo(100);
  }

  @Test
  void createTenant_takenId_isAlreadyExists() {
    admin.createTenant("acme", TenantParams.builder().build());

    TokenAuthorityException e =
        catchThrowableOfType(TokenAuthorityException.class, () -> admin.createTenant("acme", TenantParams.builder().build()));

    assertThat(e.code()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(e.reason()).isEqualTo(ErrorReason.ALREADY_EXISTS);
  }

  @Test
  void getTenant_unknown_isNotFound() {
    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> admin.getTenant("nobody"));

    assertThat(e.reason()).isEqualTo(ErrorReason.NOT_FOUND);
  }

  @Test
  void updateTenant_changesOnlyTheFieldsSet() {
    admin.createTenant("acme", TenantParams.builder().displayName("Acme Corp").enabledModules(List.of("roleplay")).build());

    TenantInfo updated = admin.updateTenant("acme", TenantParams.builder().status(TenantInfo.Status.SUSPENDED).build());

    assertThat(updated.status()).isEqualTo(TenantInfo.Status.SUSPENDED);
    assertThat(updated.displayName()).isEqualTo("Acme Corp");
    assertThat(updated.enabledModules()).containsExactly("roleplay");
  }

  @Test
  void updateTenant_suspended_itsKeysCannotMint() {
    admin.createTenant("acme", TenantParams.builder().build());
    TokenAuthorityClient acme =
        TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.createKeyIn("acme", "sessions:mint")).build();
    acme.mintSession("u");

    admin.updateTenant("acme", TenantParams.builder().status(TenantInfo.Status.SUSPENDED).build());
    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> acme.mintSession("u"));

    assertThat(e.reason()).isEqualTo(ErrorReason.TENANT_SUSPENDED);
  }

  @Test
  void listTenants_orderedById_pageByPage() {
    admin.createTenant("beta", TenantParams.builder().build());
    admin.createTenant("alpha", TenantParams.builder().build());

    TenantPage first = admin.listTenants(2, "");
    TenantPage rest = admin.listTenants(2, first.nextPageToken().orElseThrow());

    assertThat(first.tenants()).extracting(TenantInfo::id).containsExactly("alpha", "beta");
    assertThat(rest.tenants()).extracting(TenantInfo::id).containsExactly("default");
    assertThat(rest.nextPageToken()).isEmpty();
  }

  @Test
  void tenantAdmin_withoutAdminScope_isScopeNotGranted() {
    TokenAuthorityClient notAdmin =
        TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.createKey("keys:read", "keys:write")).build();

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> notAdmin.listTenants(0, ""));

    assertThat(e.reason()).isEqualTo(ErrorReason.SCOPE_NOT_GRANTED);
  }

  @Test
  void rotateSigningKey_newKeyLeadsTheJwks_oldOneStays() {
    String oldKid = admin.getJwks().keys().get(0).kid();

    // Keys made in the same instant would tie for newest; a real rotation comes later.
    ta.clock().advanceSeconds(1);
    SigningKeyRotation rotation = admin.rotateSigningKey();
    List<JsonWebKey> keys = admin.getJwks().keys();

    assertThat(rotation.kid()).isNotEqualTo(oldKid);
    assertThat(keys).extracting(JsonWebKey::kid).containsExactly(rotation.kid(), oldKid);
  }
}
