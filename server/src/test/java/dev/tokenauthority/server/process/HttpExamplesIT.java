package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.http.HttpTestClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Node and Python backends of docs/integration.md, run as their own processes against the
 * real jar: docs/examples/ holds them, the doc shows them verbatim, and each mints for its
 * signed-in user a token that redeems as that user. node and python3 must be on the PATH.
 */
class HttpExamplesIT extends ProcessTestBase {
  private static final Path EXAMPLES = Path.of("..", "docs", "examples");
  private static final Path DOC = Path.of("..", "docs", "integration.md");
  private static final Pattern PORT = Pattern.compile("token endpoint on port (\\d+)");

  @TempDir Path dataDir;

  @Test
  void docBlocks_equalTheExampleFiles() throws IOException {
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("<!-- example: ([\\w.-]+\\.(?:mjs|py)) -->\\s*\\n```\\w+\\n(.*?)```", Pattern.DOTALL).matcher(doc);
    int blocks = 0;
    while (m.find()) {
      blocks++;
      assertThat(m.group(2)).as("docs/integration.md, block %s", m.group(1)).isEqualTo(Files.readString(EXAMPLES.resolve(m.group(1))));
    }
    assertThat(blocks).isEqualTo(2);
  }

  @Test
  void nodeBackend_mintsForItsSignedInUser() throws Exception {
    runBackend(List.of(interpreter("node"), EXAMPLES.resolve("token-endpoint.mjs").toAbsolutePath().toString()));
  }

  @Test
  void pythonBackend_mintsForItsSignedInUser() throws Exception {
    runBackend(List.of(interpreter("python3"), EXAMPLES.resolve("token_endpoint.py").toAbsolutePath().toString()));
  }

  /** The interpreter's name, after checking it runs: a missing one fails the test, never skips it. */
  private static String interpreter(String name) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(name, "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return name;
      }
    } catch (IOException e) {
      // the message below
    }
    throw new AssertionError(name + " is needed to run the " + name + " example of docs/integration.md; install it (it is on CI)");
  }

  private void runBackend(List<String> command) throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin));
    HttpTestClient authority = HttpTestClient.local(server.httpPort());
    String mintKey = secret(authority.post("/v1/apiKeys", admin, "{\"name\":\"backend\",\"scopes\":[\"sessions:mint\"]}").field("secret"));
    String redeemKey = secret(authority.post("/v1/apiKeys", admin, "{\"name\":\"roleplay\",\"scopes\":[\"sessions:redeem\"]}").field("secret"));

    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("TOKEN_AUTHORITY_URL", "http://127.0.0.1:" + server.httpPort());
    builder.environment().put("TOKEN_AUTHORITY_API_KEY", mintKey);
    builder.environment().put("PORT", "0");
    Process backend = builder.start();
    try {
      StringBuffer output = new StringBuffer();
      CompletableFuture<Integer> port = new CompletableFuture<>();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(backend.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            output.append(line).append('\n');
            Matcher m = PORT.matcher(line);
            if (m.find()) {
              port.complete(Integer.parseInt(m.group(1)));
            }
          }
        } catch (IOException e) {
          output.append(e.getMessage());
        }
        port.completeExceptionally(new AssertionError("the backend exited without listening:\n" + output));
      });
      reader.setDaemon(true);
      reader.start();
      HttpTestClient endpoint = HttpTestClient.local(port.get(30, TimeUnit.SECONDS));

      HttpTestClient.Reply anonymous = endpoint.post("/token", null, "{}");
      assertThat(anonymous.status()).isEqualTo(401);

      HttpTestClient.Reply minted = endpoint.send("POST", "/token", null, null, Map.of("X-Session-Id", "session-of-rep-8842"));
      assertThat(minted.status()).as(minted.body()).isEqualTo(200);
      String token = secret(minted.field("token"));
      assertThat(minted.field("expiresAt")).isNotEmpty();

      HttpTestClient.Reply redeemed = authority.post("/v1/sessions:redeem", redeemKey, "{\"token\":\"" + token + "\"}");
      assertThat(redeemed.status()).isEqualTo(200);
      assertThat(redeemed.field("externalUserId")).isEqualTo("rep_8842");
      assertThat(redeemed.field("externalGroupId")).isEqualTo("agency_chicago");
      assertThat(output.toString()).doesNotContain(mintKey).doesNotContain(token);
    } finally {
      backend.destroy();
      backend.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
