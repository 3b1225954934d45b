package dev.tokenauthority.client.cli;

import static dev.tokenauthority.client.cli.SessionCommandsTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.v1.GetJwksResponse;
import dev.tokenauthority.v1.RotateSigningKeyResponse;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TenantStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tenants create|get|update|list} and {@code signing-keys rotate} against the real
 * server's TenantAdmin service, per api.md.
 */
class TenantCommandsTest {
  private InProcessAuthority ta;
  private CliRunner cli;

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
    cli = CliRunner.inProcess(ta);
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
  }

  private CliRunner.Result admin(String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "--api-key";
    all[1] = ta.adminSecret();
    System.arraycopy(args, 0, all, 2, args.length);
    CliRunner.Result r = cli.run(all);
    return r;
  }

  @Test
  void create_thenGet_showsThePolicy() {
    CliRunner.Result created =
        admin("tenants", "create", "acme", "--display-name", "Acme Corp", "--module", "roleplay,chat", "--ttl-default", "2m",
            "--mint-rate-per-minute", "100");
    CliRunner.Result got = admin("tenants", "get", "acme");

    assertThat(created.code()).as("%s", created).isZero();
    assertThat(got.code()).as("%s", got).isZero();
    assertThat(got.out())
        .containsPattern("(?m)^id +acme$")
        .containsPattern("(?m)^display_name +Acme Corp$")
        .containsPattern("(?m)^status +ACTIVE$")
        .containsPattern("(?m)^subscription +ACTIVE$")
        .containsPattern("(?m)^modules +roleplay,chat$")
        .containsPattern("(?m)^ttl_default +120 s$")
        .containsPattern("(?m)^mint_rate_per_minute +100$")
        .containsPattern("(?m)^monthly_quota +none$");
  }

  @Test
  void update_changesOnlyTheOptionsGiven() {
    admin("tenants", "create", "acme", "--display-name", "Acme Corp", "--module", "roleplay");

    CliRunner.Result r = admin("--json", "tenants", "update", "acme", "--status", "suspended");

    assertThat(r.code()).as("%s", r).isZero();
    Tenant t = parse(r.out(), Tenant.newBuilder()).build();
    assertThat(t.getStatus()).isEqualTo(TenantStatus.TENANT_STATUS_SUSPENDED);
    assertThat(t.getDisplayName()).isEqualTo("Acme Corp");
    assertThat(t.getEnabledModulesList()).containsExactly("roleplay");
  }

  @Test
  void update_clearModules_allowsAnyAudienceAgain() {
    admin("tenants", "create", "acme", "--module", "roleplay");

    CliRunner.Result r = admin("tenants", "update", "acme", "--clear-modules");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out()).containsPattern("(?m)^modules +-$");
  }

  @Test
  void list_table_orderedById() {
    admin("tenants", "create", "beta");
    admin("tenants", "create", "alpha");

    CliRunner.Result r = admin("tenants", "list");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out().lines().map(l -> l.split(" +")[0]).toList()).containsExactly("ID", "alpha", "beta", "default");
  }

  @Test
  void create_takenId_exitsTwoAlreadyExists() {
    admin("tenants", "create", "acme");

    CliRunner.Result r = admin("tenants", "create", "acme");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: ALREADY_EXISTS: ");
  }

  @Test
  void get_unknown_exitsTwoNotFound() {
    CliRunner.Result r = admin("tenants", "get", "nobody");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: NOT_FOUND: ");
  }

  @Test
  void signingKeysRotate_newKidLeadsTheJwks() {
    // Keys made in the same instant would tie for newest; a real rotation comes later.
    ta.clock().advanceSeconds(1);
    CliRunner.Result rotated = admin("--json", "signing-keys", "rotate");
    CliRunner.Result jwks = admin("--json", "jwks");

    assertThat(rotated.code()).as("%s", rotated).isZero();
    String kid = parse(rotated.out(), RotateSigningKeyResponse.newBuilder()).getKid();
    GetJwksResponse keys = parse(jwks.out(), GetJwksResponse.newBuilder()).build();
    assertThat(keys.getKeysCount()).isEqualTo(2);
    assertThat(keys.getKeys(0).getKid()).isEqualTo(kid);
  }

  @Test
  void signingKeysRotate_text_printsTheNewKid() {
    CliRunner.Result r = admin("signing-keys", "rotate");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out()).containsPattern("(?m)^kid +sig_\\w+$");
  }
}
