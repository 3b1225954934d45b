package dev.tokenauthority.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.config.SettingException;
import dev.tokenauthority.server.grpc.ClientCertificateInterceptor;
import dev.tokenauthority.server.grpc.ErrorMapper;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestCertificates;
import dev.tokenauthority.server.testing.TestCertificates.Ca;
import dev.tokenauthority.server.testing.TestCertificates.Issued;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's TLS over real Netty sockets, with certificates made for the test: TLS only, mTLS
 * refusing clients without a certificate (or with one from another CA), and certificates
 * replaced on disk while serving.
 */
class ServerTlsTest {
  @TempDir Path dir;

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Ca ca;
  private Path caFile;
  private Path certFile;
  private Path keyFile;
  private Path clientCaFile;
  private String adminSecret;

  @BeforeEach
  void makeCertificates() throws IOException {
    ca = TestCertificates.ca("test CA");
    caFile = dir.resolve("ca.pem");
    ca.write(caFile);
    certFile = dir.resolve("server.pem");
    keyFile = dir.resolve("server.key");
    ca.server("token-authority test server").write(certFile, keyFile);
    clientCaFile = dir.resolve("client-ca.pem");
    ca.write(clientCaFile);
  }

  @AfterEach
  void close() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** Serves a memory-store authority over Netty with these TLS settings; returns its port. */
  private int serve(ServerTls tls) throws IOException {
    MemoryStore store = new MemoryStore();
    Authority authority = new Authority(store, Authority.Settings.defaults(), Clock.systemUTC());
    adminSecret = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    TokenAuthorityServer server =
        new TokenAuthorityServer(
                tls.serverBuilder(new InetSocketAddress(0)), authority, Duration.ofHours(1),
                null, null, null,
                tls.clientCertificateTrust().map(t -> new ClientCertificateInterceptor(t, (local, remote) -> { })).orElse(null))
            .start();
    closeables.add(store);
    closeables.add(() -> server.stop(Duration.ofSeconds(1)));
    closeables.add(tls);
    return server.port();
  }

  private ManagedChannel channel(int port, ChannelCredentials credentials) {
    ManagedChannel c = NettyChannelBuilder.forAddress("localhost", port, credentials).build();
    channels.add(c);
    return c;
  }

  private static ChannelCredentials trusting(Path caFile) throws IOException {
    return TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build();
  }

  private static ChannelCredentials withClientCertificate(Path caFile, Path cert, Path key) throws IOException {
    return TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).keyManager(cert.toFile(), key.toFile()).build();
  }

  private static ServingStatus health(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }

  private int jwksKeys(ManagedChannel channel) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + adminSecret);
    return TokenAuthorityGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .getJwks(GetJwksRequest.getDefaultInstance())
        .getKeysCount();
  }

  private static StatusRuntimeException refused(ManagedChannel channel) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> health(channel));
    assertThat(e).as("the call should have been refused").isNotNull();
    return e;
  }

  private Path clientFiles(Issued client, String name) throws IOException {
    Path cert = dir.resolve(name + ".pem");
    client.write(cert, dir.resolve(name + ".key"));
    return cert;
  }

  @Test
  void tls_clientTrustingTheCa_servesHealthAndAuthenticatedCalls() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, null));

    ManagedChannel channel = channel(port, trusting(caFile));

    assertThat(health(channel)).isEqualTo(ServingStatus.SERVING);
    assertThat(jwksKeys(channel)).isPositive();
  }

  @Test
  void tls_plaintextCall_isRefused() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, null));

    ManagedChannel plaintext = NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    channels.add(plaintext);

    assertThat(refused(plaintext).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void tls_clientTrustingAnotherCa_refusesTheServer() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, null));
    Path otherCa = dir.resolve("other-ca.pem");
    TestCertificates.ca("other CA").write(otherCa);

    assertThat(refused(channel(port, trusting(otherCa))).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void mtls_clientWithCertificateFromTheCa_isServed() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, clientCaFile));
    Path clientCert = clientFiles(ca.client("backend-1"), "client");

    ManagedChannel channel = channel(port, withClientCertificate(caFile, clientCert, dir.resolve("client.key")));

    assertThat(health(channel)).isEqualTo(ServingStatus.SERVING);
    assertThat(jwksKeys(channel)).isPositive();
  }

  @Test
  void mtls_clientWithoutCertificate_isRefused() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, clientCaFile));

    assertThat(refused(channel(port, trusting(caFile))).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void mtls_clientWithCertificateFromAnotherCa_isRefused() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, clientCaFile));
    Path clientCert = clientFiles(TestCertificates.ca("other CA").client("intruder"), "intruder");

    ManagedChannel channel = channel(port, withClientCertificate(caFile, clientCert, dir.resolve("intruder.key")));

    assertThat(refused(channel).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void mtls_plaintextCall_isRefused() throws Exception {
    int port = serve(ServerTls.load(certFile, keyFile, clientCaFile));

    ManagedChannel plaintext = NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    channels.add(plaintext);

    assertThat(refused(plaintext).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void reload_certificateReplacedInPlace_newConnectionsGetItWithoutARestart() throws Exception {
    ServerTls tls = ServerTls.load(certFile, keyFile, null);
    int port = serve(tls);
    assertThat(health(channel(port, trusting(caFile)))).isEqualTo(ServingStatus.SERVING);

    // The operator renews with a certificate of a new CA, on an RSA key in PKCS#1.
    Ca renewed = TestCertificates.ca("renewed CA");
    Path renewedCa = dir.resolve("renewed-ca.pem");
    renewed.write(renewedCa);
    Issued next = renewed.rsaServer("token-authority renewed");
    TestCertificates.writeCertificate(certFile, next.certificate());
    TestCertificates.writeTraditional(keyFile, next.keys());
    tls.reloadIfChanged();

    assertThat(health(channel(port, trusting(renewedCa)))).isEqualTo(ServingStatus.SERVING);
    assertThat(refused(channel(port, trusting(caFile))).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(tls.describe()).contains("token-authority renewed");
  }

  @Test
  void reload_certificateWrittenButKeyNotYet_keepsServingThePreviousPair() throws Exception {
    ServerTls tls = ServerTls.load(certFile, keyFile, null);
    int port = serve(tls);

    // Half-way through a rotation: the new certificate is there, its key is not.
    Ca renewed = TestCertificates.ca("renewed CA");
    Path renewedCa = dir.resolve("renewed-ca.pem");
    renewed.write(renewedCa);
    Issued next = renewed.server("token-authority renewed");
    TestCertificates.writeCertificate(certFile, next.certificate());
    tls.reloadIfChanged();

    assertThat(health(channel(port, trusting(caFile)))).isEqualTo(ServingStatus.SERVING);

    // The key lands (as SEC1): the next check takes the pair.
    TestCertificates.writeTraditional(keyFile, next.keys());
    tls.reloadIfChanged();

    assertThat(health(channel(port, trusting(renewedCa)))).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void reload_clientCaReplaced_acceptsClientsOfTheNewCa() throws Exception {
    ServerTls tls = ServerTls.load(certFile, keyFile, clientCaFile);
    int port = serve(tls);
    Ca newClientCa = TestCertificates.ca("new client CA");
    Path clientCert = clientFiles(newClientCa.client("backend-2"), "client2");
    ChannelCredentials credentials = withClientCertificate(caFile, clientCert, dir.resolve("client2.key"));
    assertThat(refused(channel(port, credentials)).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

    newClientCa.write(clientCaFile);
    tls.reloadIfChanged();

    assertThat(health(channel(port, credentials))).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void reload_clientCaRemoved_refusesTheCallsOfConnectionsOpenedUnderIt() throws Exception {
    ServerTls tls = ServerTls.load(certFile, keyFile, clientCaFile);
    int port = serve(tls);
    Path clientCert = clientFiles(ca.client("backend-1"), "client1");
    ManagedChannel opened = channel(port, withClientCertificate(caFile, clientCert, dir.resolve("client1.key")));
    assertThat(health(opened)).isEqualTo(ServingStatus.SERVING);
    assertThat(jwksKeys(opened)).isPositive();

    // The operator replaces the client CA: the connection opened under the old one stays open,
    // but none of its calls is served any more, open (health) or keyed.
    TestCertificates.ca("new client CA").write(clientCaFile);
    tls.reloadIfChanged();

    StatusRuntimeException health = refused(opened);
    assertThat(health.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(ErrorMapper.reasonOf(health.getStatus(), health.getTrailers())).isEqualTo("CLIENT_CERTIFICATE_UNTRUSTED");
    StatusRuntimeException keyed = catchThrowableOfType(StatusRuntimeException.class, () -> jwksKeys(opened));
    assertThat(keyed.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(ErrorMapper.reasonOf(keyed.getStatus(), keyed.getTrailers())).isEqualTo("CLIENT_CERTIFICATE_UNTRUSTED");
    assertThat(keyed.getStatus().getDescription()).contains("client certificate");

    // The old CA back: the same connection is served again.
    ca.write(clientCaFile);
    tls.reloadIfChanged();
    assertThat(health(opened)).isEqualTo(ServingStatus.SERVING);
    assertThat(jwksKeys(opened)).isPositive();
  }

  @Test
  void reload_clientCaRemoved_aClientOfferingItsEarlierTlsSession_mustMakeAFullHandshake() throws Exception {
    ServerTls tls = ServerTls.load(certFile, keyFile, clientCaFile);
    int port = serve(tls);
    Path clientCert = clientFiles(ca.client("backend-1"), "client1");
    // One client TLS context for every connection: it offers each handshake the session (ticket)
    // of the one before, which a server resumes without asking for the certificate again.
    SslContext client =
        GrpcSslContexts.forClient().trustManager(caFile.toFile()).keyManager(clientCert.toFile(), dir.resolve("client1.key").toFile()).build();
    ManagedChannel first = NettyChannelBuilder.forAddress("localhost", port).sslContext(client).build();
    channels.add(first);
    assertThat(health(first)).isEqualTo(ServingStatus.SERVING);
    first.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    ManagedChannel resumed = NettyChannelBuilder.forAddress("localhost", port).sslContext(client).build();
    channels.add(resumed);
    assertThat(health(resumed)).isEqualTo(ServingStatus.SERVING);
    resumed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

    TestCertificates.ca("new client CA").write(clientCaFile);
    tls.reloadIfChanged();

    // Its session is not resumed: the full handshake refuses the certificate, as for any client
    // of a CA no longer trusted; again on the next try.
    for (int attempt = 0; attempt < 2; attempt++) {
      ManagedChannel after = NettyChannelBuilder.forAddress("localhost", port).sslContext(client).build();
      channels.add(after);
      assertThat(refused(after).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      after.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void load_keyOfAnotherCertificate_namesTheKeySetting() throws Exception {
    Issued other = ca.server("other");
    TestCertificates.writePkcs8(keyFile, other.keys().getPrivate());

    assertThatThrownBy(() -> ServerTls.load(certFile, keyFile, null))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("is not the private key of the certificate")
        .extracting(e -> ((SettingException) e).setting())
        .isEqualTo("--tls-key");
  }

  @Test
  void load_missingOrNonPemFiles_nameTheirSetting() throws Exception {
    assertThatThrownBy(() -> ServerTls.load(dir.resolve("missing.pem"), keyFile, null))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("no such file")
        .extracting(e -> ((SettingException) e).setting())
        .isEqualTo("--tls-cert");
    java.nio.file.Files.writeString(dir.resolve("junk.pem"), "not a certificate");
    assertThatThrownBy(() -> ServerTls.load(certFile, keyFile, dir.resolve("junk.pem")))
        .isInstanceOf(SettingException.class)
        .extracting(e -> ((SettingException) e).setting())
        .isEqualTo("--tls-client-ca");
    assertThatThrownBy(() -> ServerTls.load(certFile, dir.resolve("junk.pem"), null))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("no PEM private key")
        .extracting(e -> ((SettingException) e).setting())
        .isEqualTo("--tls-key");
  }
}
