package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.http.HttpTestClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
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

  @Test
  void bothBackends_answer502_whenTheAuthorityUrlAnswersSomethingElse() throws Exception {
    // A proxy's HTML error page, an HTML 200 (a login portal), and a port that does not speak
    // HTTP/1.1 at all (the gRPC port, an SSH server): the user gets 502, the backend keeps serving.
    List<String> replies = List.of(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 17\r\nConnection: close\r\n\r\n<html>oops</html>",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        "SSH-2.0-OpenSSH_9.2\r\n");
    for (List<String> command : List.of(
        List.of(interpreter("node"), EXAMPLES.resolve("token-endpoint.mjs").toAbsolutePath().toString()),
        List.of(interpreter("python3"), EXAMPLES.resolve("token_endpoint.py").toAbsolutePath().toString()))) {
      for (String reply : replies) {
        try (ServerSocket notTheAuthority = answering(reply)) {
          try (Backend backend = startBackend(command, "http://127.0.0.1:" + notTheAuthority.getLocalPort(), "sk_unused")) {
            HttpTestClient.Reply r = backend.endpoint.send("POST", "/token", null, null, Map.of("X-Session-Id", "session-of-rep-8842"));
            assertThat(r.status()).as("%s with %s: %s", command.get(0), reply.lines().findFirst().orElseThrow(), backend.output).isEqualTo(502);
            assertThat(r.field("error")).isEqualTo("AUTHORITY_UNREACHABLE");
            // Still serving the next user.
            assertThat(backend.endpoint.post("/token", null, "{}").status()).isEqualTo(401);
          }
        }
      }
    }
  }

  /** A one-line TCP server that reads each request (headers and Content-Length body) and writes {@code reply}. */
  private static ServerSocket answering(String reply) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
          int length = 0;
          for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
              length = Integer.parseInt(line.substring("content-length:".length()).strip());
            }
          }
          for (int i = 0; i < length; i++) {
            in.read();
          }
          OutputStream out = s.getOutputStream();
          out.write(reply.getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        } catch (IOException e) {
          // closed, or the client went away: take the next one
        }
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }

  private void runBackend(List<String> command) throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin));
    HttpTestClient authority = HttpTestClient.local(server.httpPort());
    String mintKey = secret(authority.post("/v1/apiKeys", admin, "{\"name\":\"backend\",\"scopes\":[\"sessions:mint\"]}").field("secret"));
    String redeemKey = secret(authority.post("/v1/apiKeys", admin, "{\"name\":\"roleplay\",\"scopes\":[\"sessions:redeem\"]}").field("secret"));

    try (Backend backend = startBackend(command, "http://127.0.0.1:" + server.httpPort(), mintKey)) {
      HttpTestClient endpoint = backend.endpoint;
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
      assertThat(backend.output.toString()).doesNotContain(mintKey).doesNotContain(token);
    }
  }

  /** An example backend running as its own process, and a client of its endpoint. */
  private record Backend(Process process, HttpTestClient endpoint, StringBuffer output) implements AutoCloseable {
    @Override
    public void close() throws InterruptedException {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Backend startBackend(List<String> command, String authorityUrl, String apiKey) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("TOKEN_AUTHORITY_URL", authorityUrl);
    builder.environment().put("TOKEN_AUTHORITY_API_KEY", apiKey);
    builder.environment().put("PORT", "0");
    Process backend = builder.start();
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
    try {
      return new Backend(backend, HttpTestClient.local(port.get(30, TimeUnit.SECONDS)), output);
    } catch (Exception e) {
      backend.destroy();
      throw e;
    }
  }
}
