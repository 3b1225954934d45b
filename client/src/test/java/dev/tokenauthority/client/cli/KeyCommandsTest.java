package dev.tokenauthority.client.cli;

import static dev.tokenauthority.client.cli.SessionCommandsTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.ListApiKeysResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code keys create|list|revoke} against the real server: output, JSON and exit codes. */
class KeyCommandsTest {
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
    return cli.run(all);
  }

  private CreateApiKeyResponse create(String... options) {
    String[] args = new String[options.length + 3];
    args[0] = "--json";
    args[1] = "keys";
    args[2] = "create";
    System.arraycopy(options, 0, args, 3, options.length);
    CliRunner.Result r = admin(args);
    assertThat(r.code()).as("%s", r).isZero();
    return parse(r.out(), CreateApiKeyResponse.newBuilder()).build();
  }

  @Test
  void create_text_showsTheKeyAndItsSecretThisOnce() {
    CliRunner.Result r = admin("keys", "create", "--name", "backend", "--scope", "sessions:mint,sessions:redeem");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out())
        .containsPattern("(?m)^id +key_\\w+$")
        .containsPattern("(?m)^name +backend$")
        .containsPattern("(?m)^scopes +sessions:mint,sessions:redeem$")
        .containsPattern("(?m)^expires +never$")
        .containsPattern("(?m)^secret +sk_\\w+$");
    assertThat(r.err()).contains("shown this once");
    String secret = r.out().replaceAll("(?s).*\\nsecret +(sk_\\w+).*", "$1");
    assertThat(cli.run("--api-key", secret, "sessions", "mint", "--user", "u").code()).isZero();
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void create_stdoutFull_exits3_andNamesTheKeyToRevoke_insteadOfClaimingTheSecretWasShown(boolean json) {
    List<String> args = new ArrayList<>(List.of("--api-key", ta.adminSecret(), "keys", "create", "--name", "lost", "--scope", "sessions:mint"));
    if (json) {
      args.add(0, "--json");
    }

    CliRunner.Result r = cli.runWithStdoutFailing(args.toArray(String[]::new));

    assertThat(r.code()).as("%s", r).isEqualTo(3);
    assertThat(r.err()).doesNotContain("shown this once").contains("could not be written").containsPattern("revoke it with 'keys revoke key_\\w+'");
    String id = r.err().replaceAll("(?s).*keys revoke (key_\\w+).*", "$1");
    assertThat(admin("keys", "list").out()).as("the key exists, so it must be revoked").contains(id);
  }

  @Test
  void create_json_isTheResponse() {
    CreateApiKeyResponse created =
        create("--name", "web", "--scope", "sessions:mint", "--origin", "https://app.example.com", "--tenant", "default");

    assertThat(created.getSecret()).startsWith("sk_");
    assertThat(created.getApiKey().getName()).isEqualTo("web");
    assertThat(created.getApiKey().getAllowedOriginsList()).containsExactly("https://app.example.com");
    assertThat(created.getApiKey().getTenantId()).isEqualTo("default");
  }

  @Test
  void create_expiresAsADurationOrAnInstant() {
    CreateApiKeyResponse in30Days = create("--name", "a", "--scope", "sessions:mint", "--expires", "30d");
    CreateApiKeyResponse at = create("--name", "b", "--scope", "sessions:mint", "--expires", "2030-02-01T12:00:00Z");

    assertThat(in30Days.getApiKey().getExpireTime().getSeconds())
        .isEqualTo(TestClock.DEFAULT_START.plus(Duration.ofDays(30)).getEpochSecond());
    assertThat(at.getApiKey().getExpireTime().getSeconds()).isEqualTo(Instant.parse("2030-02-01T12:00:00Z").getEpochSecond());
  }

  @Test
  void create_scopeTheCallerLacks_exitsTwo() {
    String keyWriter = ta.createKey("keys:write");

    CliRunner.Result r = cli.run("--api-key", keyWriter, "keys", "create", "--name", "x", "--scope", "admin");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: SCOPE_NOT_GRANTED: ");
  }

  @Test
  void create_invalidFields_listsEachOnItsOwnLine() {
    CliRunner.Result r = admin("keys", "create", "--name", " ", "--scope", "Not A Scope");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .startsWith("error: INVALID_REQUEST: ")
        .containsPattern("(?m)^  name: .+$")
        .containsPattern("(?m)^  scopes\\[0\\]: .+$");
  }

  @Test
  void create_withoutScope_isAUsageError() {
    CliRunner.Result r = admin("keys", "create", "--name", "x");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--scope");
  }

  @Test
  void list_table_showsEveryKeyButNoSecret() {
    CreateApiKeyResponse created = create("--name", "backend", "--scope", "sessions:mint");

    CliRunner.Result r = admin("keys", "list");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out().lines().findFirst().orElseThrow()).startsWith("ID").contains("NAME", "SCOPES", "HINT", "EXPIRES");
    assertThat(r.out()).contains(created.getApiKey().getId(), created.getApiKey().getHint()).doesNotContain(created.getSecret());
    assertThat(r.out().lines()).hasSize(3); // header, the admin key, the new key
  }

  @Test
  void list_pages_andJson() {
    create("--name", "a", "--scope", "sessions:mint");
    create("--name", "b", "--scope", "sessions:mint");

    CliRunner.Result page = admin("--json", "keys", "list", "--page-size", "2");
    ListApiKeysResponse first = parse(page.out(), ListApiKeysResponse.newBuilder()).build();
    CliRunner.Result text = admin("keys", "list", "--page-size", "2");

    assertThat(first.getApiKeysCount()).isEqualTo(2);
    assertThat(first.getNextPageToken()).isNotEmpty();
    assertThat(text.out()).contains("next page: --page-token " + first.getNextPageToken());
  }

  @Test
  void revoke_thenTheKeyIsRefused() {
    CreateApiKeyResponse created = create("--name", "backend", "--scope", "sessions:mint");

    CliRunner.Result r = admin("keys", "revoke", created.getApiKey().getId());
    CliRunner.Result mint = cli.run("--api-key", created.getSecret(), "sessions", "mint", "--user", "u");

    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("revoked " + created.getApiKey().getId() + " at ");
    assertThat(mint.code()).isEqualTo(2);
    assertThat(mint.err()).startsWith("error: API_KEY_REVOKED: ").doesNotContain(created.getSecret());
  }

  @Test
  void revoke_unknownKey_isNotFound() {
    CliRunner.Result r = admin("keys", "revoke", "key_nothing");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: NOT_FOUND: ");
  }
}
