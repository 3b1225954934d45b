package dev.tokenauthority.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.InProcessAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line itself: help on every level, usage errors (exit 1), the API key's sources, and that it is never printed. */
class CliUsageTest {
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

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "keys", "keys create", "keys list", "keys revoke",
        "sessions", "sessions mint", "sessions redeem", "sessions introspect", "sessions revoke",
        "tenants", "tenants create", "tenants get", "tenants update", "tenants list",
        "jwks", "signing-keys", "signing-keys rotate"
      })
  void help_onEveryLevel_printsUsageAndExitsZero(String command) {
    String[] words = command.isEmpty() ? new String[0] : command.split(" ");
    String[] args = new String[words.length + 1];
    System.arraycopy(words, 0, args, 0, words.length);
    args[words.length] = "--help";

    CliRunner.Result r = cli.run(args);

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out()).startsWith(("Usage: token-authority " + command).trim()).contains("--target", "--api-key", "--json");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void help_top_listsTheCommandsAndExitCodes() {
    CliRunner.Result r = cli.run("--help");

    assertThat(r.out()).contains("keys", "sessions", "tenants", "jwks", "signing-keys", "2 the server refused");
  }

  @Test
  void noCommand_isAUsageError() {
    CliRunner.Result r = cli.run();

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: Missing required subcommand");
  }

  @Test
  void groupWithoutItsSubcommand_isAUsageError() {
    assertThat(cli.run("--api-key", ta.adminSecret(), "keys").code()).isEqualTo(1);
  }

  @Test
  void unknownCommand_isAUsageErrorWithASuggestion() {
    CliRunner.Result r = cli.run("sesions");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("sessions");
  }

  @Test
  void noApiKey_isAUsageErrorNamingBothSources() {
    CliRunner.Result r = cli.run("jwks");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: an API key is required: --api-key or TOKEN_AUTHORITY_API_KEY");
  }

  @Test
  void apiKey_fromTheEnvironment() {
    CliRunner.Result r = cli.env(Map.of("TOKEN_AUTHORITY_API_KEY", ta.adminSecret())).run("jwks");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(cli.lastConnection().apiKey()).isEqualTo(ta.adminSecret());
  }

  @Test
  void apiKey_flagWinsOverTheEnvironment() {
    cli.env(Map.of("TOKEN_AUTHORITY_API_KEY", "sk_from_the_environment")).run("--api-key", ta.adminSecret(), "jwks");

    assertThat(cli.lastConnection().apiKey()).isEqualTo(ta.adminSecret());
  }

  @Test
  void apiKey_givenEmpty_isAUsageError_notTheEnvironmentsKey() {
    // `--api-key "$TENANT_KEY"` with the variable unset must not run as the environment's admin.
    CliRunner.Result r = cli.env(Map.of("TOKEN_AUTHORITY_API_KEY", ta.adminSecret())).run("--api-key", "", "keys", "list");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: --api-key is empty");
    assertThat(cli.lastConnection()).isNull();
  }

  @Test
  void globalOptions_workAfterTheSubcommandToo() {
    CliRunner.Result r = cli.run("jwks", "--target", "authority.internal:443", "--api-key", ta.adminSecret());

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(cli.lastConnection().target()).isEqualTo("authority.internal:443");
    assertThat(cli.lastConnection().plaintext()).isFalse();
  }

  @Test
  void target_defaultsToLocalhost() {
    cli.run("--api-key", ta.adminSecret(), "--plaintext", "jwks");

    assertThat(cli.lastConnection().target()).isEqualTo("localhost:50051");
    assertThat(cli.lastConnection().plaintext()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "sessions mint --user u --ttl soon",
        "sessions mint --user u --context [1,2]",
        "sessions mint --user u --context {nope",
        "sessions mint --user u --max-uses 0",
        "sessions mint --user u --max-uses many",
        "keys create --name n --scope sessions:mint --expires yesterday",
        "tenants update acme",
        "tenants update acme --status bogus",
        "tenants update acme --module a --clear-modules",
        "--plaintext --ca-cert ca.pem jwks",
        "--client-cert c.pem jwks"
      })
  void badValues_areUsageErrors_beforeAnyCall(String command) {
    CliRunner.Result r = cli.run(("--api-key " + ta.adminSecret() + " " + command).split(" "));

    assertThat(r.code()).as("%s", r).isEqualTo(1);
    assertThat(r.err()).startsWith("error: ");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void unreadableCaCert_isAUsageError() {
    CliRunner network = new CliRunner(ClientFactory.overNetwork(), Clock.systemUTC());

    CliRunner.Result r = network.run("--api-key", "sk_x", "--ca-cert", Path.of("no", "such", "ca.pem").toString(), "jwks");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: cannot read a TLS certificate or key file");
  }

  @Test
  void caCertThatIsNoCertificate_isAUsageErrorNamingTheFile(@TempDir Path dir) throws Exception {
    Path garbage = Files.writeString(dir.resolve("bad.pem"), "garbage\n");
    CliRunner network = new CliRunner(ClientFactory.overNetwork(), Clock.systemUTC());

    CliRunner.Result r = network.run("--api-key", "sk_x", "--target", "localhost:1", "--ca-cert", garbage.toString(), "jwks");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: cannot read a TLS certificate or key file").contains("bad.pem")
        .doesNotContain("ProviderNotFoundException", "UdsNettyChannelProvider");
  }

  @Test
  void shortApiKey_doesNotMangleTheServersMessage() {
    CliRunner.Result r = cli.run("--api-key", "e", "jwks");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: API_KEY_INVALID: ").doesNotContain("[redacted]");
  }

  @Test
  void apiKey_isNeverPrinted_notEvenWhenMisplaced() {
    String secret = ta.adminSecret();
    String[][] commands = {
      {"--api-key", secret, "--help"},
      {"--api-key", secret, "sessions", "mint", "--help"},
      {"--api-key", secret, "keys", "list"},
      {"--api-key", secret, "keys", "revoke", "key_nothing"},
      {"--api-key", secret, "sessions", "redeem", "not-a-token"},
      {"--api-ky", secret, "jwks"},
      {"jwks", secret},
    };
    for (String[] command : commands) {
      CliRunner.Result r = cli.run(command);
      assertThat(r.all()).as("%s", String.join(" ", command).replace(secret, "SECRET")).doesNotContain(secret);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sk_", "acme2_", "sk_live_", "a1_"})
  void aMisplacedKey_ofAnyPrefix_isRedacted(String prefix) {
    // --api-key-prefix allows digits (acme2_), an operator's own admin secret more underscores;
    // a key of such a prefix typed where no option takes it was echoed whole by "Unknown options".
    String secret = prefix + "eALZV0LmK0MAcdAJaNPsSJdUOfN1oX3cLk9qqh4v9bY1rs9CN";

    for (String[] command : new String[][] {{"--apikey", secret, "keys", "list"}, {"keys", "list", secret}}) {
      CliRunner.Result r = cli.run(command);
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.all()).contains("not shown").doesNotContain(secret.substring(prefix.length()));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // openssl rand -hex 32
    "q1Zt0n7m4Yw9Xb2Ck5Lp8Rs3Tu6Vx0Az1By2Cw3Dv4E=", // openssl rand -base64 32
  })
  void aMisplacedOperatorChosenAdminSecret_isNeverEchoed_theUnknownOptionIsNamed(String secret) {
    // TOKEN_AUTHORITY_ADMIN_KEY may be any 32+ characters: no shape tells it from other text.
    CliRunner.Result r = cli.run("--apikey", secret, "keys", "list");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.all()).contains("unknown option '--apikey'").doesNotContain(secret);
    r = cli.run("--apikey=" + secret, "keys", "list");
    assertThat(r.all()).contains("unknown option '--apikey'").doesNotContain(secret);
    r = cli.run("keys", "list", secret);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.all()).contains("1 unexpected argument").doesNotContain(secret);
  }

  @Test
  void anArgumentBeginningWithAt_isTakenAsItIs_notAsAFileOfArguments(@TempDir Path dir) throws Exception {
    // picocli's default would read "@file" as the arguments in it: a user id from a script's
    // input would become another user with "--max-uses 50".
    Path file = dir.resolve("alice");
    Files.writeString(file, "mallory --max-uses 50\n");
    String key = ta.createKey("sessions:mint", "sessions:redeem");

    CliRunner.Result minted = cli.run("--api-key", key, "--json", "sessions", "mint", "--user", "@" + file);
    assertThat(minted.code()).as("%s", minted).isZero();
    String token = minted.out().replaceAll("(?s).*\"token\": \"([^\"]+)\".*", "$1").strip();
    CliRunner.Result seen = cli.run("--api-key", key, "sessions", "introspect", token);

    assertThat(seen.out()).as("%s", seen).contains("@" + file).doesNotContain("mallory");
  }
}
