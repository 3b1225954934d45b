package dev.tokenauthority.client.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.client.MintedSession;
import dev.tokenauthority.client.TokenAuthorityClient;
import dev.tokenauthority.client.TokenAuthorityException;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestCertificates;
import dev.tokenauthority.server.tls.ServerTls;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client library and the CLI against a server that requires client certificates (mTLS),
 * over real Netty sockets, with certificates made for the test.
 */
class MutualTlsTest {
  @TempDir Path dir;
  private Path caFile;
  private Path clientCert;
  private Path clientKey;
  private ServerTls tls;
  private MemoryStore store;
  private TokenAuthorityServer server;
  private String admin;

  @BeforeEach
  void serveWithMutualTls() throws Exception {
    TestCertificates.Ca ca = TestCertificates.ca("test CA");
    caFile = dir.resolve("ca.pem");
    ca.write(caFile);
    Path serverCert = dir.resolve("server.pem");
    Path serverKey = dir.resolve("server.key");
    ca.server("localhost").write(serverCert, serverKey);
    clientCert = dir.resolve("client.pem");
    clientKey = dir.resolve("client.key");
    ca.client("backend").write(clientCert, clientKey);
    tls = ServerTls.load(serverCert, serverKey, caFile);
    store = new MemoryStore();
    Authority authority = new Authority(store, Authority.Settings.defaults(), Clock.systemUTC());
    admin = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    server = new TokenAuthorityServer(
            tls.serverBuilder(new InetSocketAddress(0)), authority, Duration.ofHours(1))
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop(Duration.ofSeconds(1));
    tls.close();
    store.close();
  }

  private String target() {
    return "localhost:" + server.port();
  }

  @Test
  void clientWithCertificate_mintsAndRedeems() {
    try (TokenAuthorityClient client = TokenAuthorityClient.builder().target(target()).apiKey(admin)
        .tls(caFile).clientCertificate(clientCert, clientKey).build()) {
      MintedSession minted = client.mintSession("rep_8842");
      assertThat(client.redeem(minted.token()).externalUserId()).isEqualTo("rep_8842");
    }
  }

  @Test
  void clientWithoutCertificate_isRefused() {
    try (TokenAuthorityClient client = TokenAuthorityClient.builder().target(target()).apiKey(admin).tls(caFile).build()) {
      TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, client::getJwks);
      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getMessage()).doesNotContain(admin);
    }
  }

  @Test
  void cli_withClientCertificate_worksAndWithoutIsRefused() {
    CliRunner cli = new CliRunner(ClientFactory.overNetwork(), Clock.systemUTC());
    CliRunner.Result ok = cli.run("--target", target(), "--ca-cert", caFile.toString(), "--client-cert", clientCert.toString(),
        "--client-key", clientKey.toString(), "--api-key", admin, "jwks");
    CliRunner.Result refused = cli.run("--target", target(), "--ca-cert", caFile.toString(), "--api-key", admin, "jwks");

    assertThat(ok.code()).as("%s", ok).isZero();
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).doesNotContain(admin);
  }

  @Test
  void cli_serverCertificateNotTrusted_saysWhy() {
    CliRunner cli = new CliRunner(ClientFactory.overNetwork(), Clock.systemUTC());

    CliRunner.Result r = cli.run("--target", target(), "--api-key", admin, "jwks");

    assertThat(r.code()).isEqualTo(2);
    // Not only netty's "General OpenSslEngine problem": the reason, from the bottom of the chain.
    assertThat(r.err()).containsPattern("root cause: .*certification path");
  }
}
