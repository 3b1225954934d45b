package dev.tokenauthority.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.client.testing.NettyAuthority;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The packaged {@code token-authority-cli.jar}, run with {@code java -jar} as operators run it. */
class CliJarIT {
  private NettyAuthority server;

  private record Run(int code, String out, String err) {}

  @BeforeEach
  void start() {
    server = NettyAuthority.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Path jar() {
    Path jar = Path.of(System.getProperty("tokenauthority.cliJar", "target/token-authority-cli.jar"));
    assertThat(jar).as("the shaded CLI jar (run after `package`)").exists();
    return jar;
  }

  private Run java(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().remove("TOKEN_AUTHORITY_API_KEY");
    pb.environment().putAll(env);
    Path out = Files.createTempFile("cli-out", ".txt");
    Path err = Files.createTempFile("cli-err", ".txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the CLI exits").isTrue();
    Run run = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return run;
  }

  @Test
  void help_exitsZero() throws Exception {
    Run r = java(Map.of(), "--help");

    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("Usage: token-authority");
  }

  @Test
  void version_comesFromTheManifest() throws Exception {
    Run r = java(Map.of(), "--version");

    assertThat(r.out()).startsWith("token-authority CLI ").doesNotContain("development build");
  }

  @Test
  void mintThenRedeemTwice_exitCodesAndCleanStderr() throws Exception {
    Map<String, String> env = Map.of("TOKEN_AUTHORITY_API_KEY", server.adminSecret());
    Run minted = java(env, "--target", server.target(), "--plaintext", "sessions", "mint", "--user", "rep_8842");
    Matcher token = Pattern.compile("(?m)^token +(\\S+)$").matcher(minted.out());
    assertThat(token.find()).as("a token line in %s", minted.out()).isTrue();

    Run first = java(env, "--target", server.target(), "--plaintext", "sessions", "redeem", token.group(1));
    Run second = java(env, "--target", server.target(), "--plaintext", "sessions", "redeem", token.group(1));

    assertThat(minted.code()).isZero();
    assertThat(minted.err()).as("nothing on stderr, not even a logging warning").isEmpty();
    assertThat(first.code()).isZero();
    assertThat(second.code()).isEqualTo(2);
    assertThat(second.err()).startsWith("error: TOKEN_ALREADY_USED: ");
    assertThat(minted.out() + minted.err() + second.err()).doesNotContain(server.adminSecret());
  }

  @Test
  void unresolvableHost_isOneErrorLine_withoutGrpcsLoggedStackTrace() throws Exception {
    Run r = java(Map.of("TOKEN_AUTHORITY_API_KEY", server.adminSecret()), "--target", "nonexistent.invalid:443", "keys", "list");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: UNAVAILABLE").doesNotContain("WARNING", "\tat ", "Exception in");
  }

  @Test
  void apiKeyWithALineBreakInside_exitsOne_andNeverShowsIt() throws Exception {
    String broken = server.adminSecret().substring(0, 20) + "\n" + server.adminSecret().substring(20);
    Run r = java(Map.of(), "--target", server.target(), "--plaintext", "--api-key", broken, "jwks");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("printable ASCII").doesNotContain(server.adminSecret().substring(0, 20), "Metadata key");
  }

  @Test
  void noApiKey_exitsOne() throws Exception {
    Run r = java(Map.of(), "--target", server.target(), "--plaintext", "jwks");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: an API key is required");
  }
}
