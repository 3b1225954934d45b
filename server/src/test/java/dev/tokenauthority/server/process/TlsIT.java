package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.testing.TestCertificates;
import dev.tokenauthority.server.testing.TestCertificates.Ca;
import dev.tokenauthority.server.testing.TestCertificates.Issued;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real jar serving mTLS with certificates made for the test, and picking up a renewed one. */
class TlsIT extends ProcessTestBase {
  @TempDir Path dataDir;
  @TempDir Path certs;

  private Ca ca;
  private Path caFile;
  private Path serverCert;
  private Path serverKey;
  private Path clientCert;
  private Path clientKey;

  @BeforeEach
  void makeCertificates() throws Exception {
    ca = TestCertificates.ca("it CA");
    caFile = certs.resolve("ca.pem");
    ca.write(caFile);
    serverCert = certs.resolve("server.pem");
    serverKey = certs.resolve("server.key");
    Issued server = ca.server("token-authority it");
    TestCertificates.writeCertificate(serverCert, server.certificate());
    TestCertificates.writeTraditional(serverKey, server.keys());
    clientCert = certs.resolve("client.pem");
    clientKey = certs.resolve("client.key");
    ca.client("backend").write(clientCert, clientKey);
  }

  private ServerProcess startMtls(String admin) throws Exception {
    return start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin),
        "--store", "memory",
        "--audit-log", dataDir.resolve("audit.jsonl").toString(),
        "--tls-cert", serverCert.toString(),
        "--tls-key", serverKey.toString(),
        "--tls-client-ca", caFile.toString(),
        "--tls-reload-interval", "200ms");
  }

  private ChannelCredentials clientCredentials(Path trusted) throws Exception {
    return TlsChannelCredentials.newBuilder()
        .trustManager(trusted.toFile())
        .keyManager(clientCert.toFile(), clientKey.toFile())
        .build();
  }

  private static TokenAuthorityGrpc.TokenAuthorityBlockingStub stub(ManagedChannel channel, String secret) {
    return TokenAuthorityGrpc.newBlockingStub(channel)
        .withInterceptors(ServerProcess.bearer(secret))
        .withDeadlineAfter(15, TimeUnit.SECONDS);
  }

  private static ServingStatus health(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(15, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }

  private static Status.Code refusal(ManagedChannel channel) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> health(channel));
    assertThat(e).as("the call should have been refused").isNotNull();
    return e.getStatus().getCode();
  }

  @Test
  void mtls_clientCaReplaced_anOpenChannelIsRefused_thenItsConnectionIsClosed_andANewCertificateIsServed() throws Exception {
    Path clientCaFile = certs.resolve("client-ca.pem");
    ca.write(clientCaFile);
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin),
        "--store", "memory", "--tls-cert", serverCert.toString(), "--tls-key", serverKey.toString(),
        "--tls-client-ca", clientCaFile.toString(), "--tls-reload-interval", "200ms");
    ManagedChannel channel = server.tlsChannel(clientCredentials(caFile));
    assertThat(health(channel)).isEqualTo(ServingStatus.SERVING);

    Ca next = TestCertificates.ca("next client CA");
    next.write(clientCaFile);
    StatusRuntimeException refused = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (refused == null && System.nanoTime() < deadline) {
      try {
        health(channel);
        Thread.sleep(100);
      } catch (StatusRuntimeException e) {
        refused = e;
      }
    }
    assertThat(refused).as("a call on the connection opened under the old CA\n%s", server.describe()).isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(ServerProcess.reason(refused)).isEqualTo("CLIENT_CERTIFICATE_UNTRUSTED");

    // The server closed that connection, so the channel reconnects, and the new handshake refuses
    // the certificate (no resumed session skips it), as for any client of an untrusted CA.
    Status.Code nextCall = Status.Code.UNAUTHENTICATED;
    for (int i = 0; i < 50 && nextCall == Status.Code.UNAUTHENTICATED; i++) {
      nextCall = refusal(channel);
    }
    assertThat(nextCall).isEqualTo(Status.Code.UNAVAILABLE);

    Path nextCert = certs.resolve("next-client.pem");
    Path nextKey = certs.resolve("next-client.key");
    next.client("backend-2").write(nextCert, nextKey);
    ManagedChannel renewed = server.tlsChannel(
        TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).keyManager(nextCert.toFile(), nextKey.toFile()).build());
    assertThat(health(renewed)).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void mtls_clientWithCertificate_mintsAndRedeems_othersAreRefused() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startMtls(admin);
    assertThat(server.stdout()).contains("TLS only: certificate CN=token-authority it").contains(", mTLS;");

    ManagedChannel mtls = server.tlsChannel(clientCredentials(caFile));
    String key = secret(stub(mtls, admin)
        .createApiKey(CreateApiKeyRequest.newBuilder().setName("over mTLS").addScopes("sessions:mint").addScopes("sessions:redeem").build())
        .getSecret());
    MintSessionResponse minted = stub(mtls, key).mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").build());
    secret(minted.getToken());
    assertThat(stub(mtls, key).redeem(RedeemRequest.newBuilder().setToken(minted.getToken()).build()).getSessionId())
        .isEqualTo(minted.getSessionId());

    ManagedChannel noCertificate = server.tlsChannel(TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build());
    assertThat(refusal(noCertificate)).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refusal(server.newChannel())).as("plaintext").isEqualTo(Status.Code.UNAVAILABLE);

    // The audit names the client certificate of each call over mTLS.
    server.sigterm();
    assertThat(server.waitFor(Duration.ofSeconds(30))).isZero();
    List<String> lines = Files.readAllLines(dataDir.resolve("audit.jsonl"));
    assertThat(lines).hasSize(3).allSatisfy(line -> assertThat(line).contains("\"peer_certificate\":\"CN=backend\""));
  }

  @Test
  void renewedCertificateOnDisk_isServedWithoutARestart() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startMtls(admin);
    assertThat(health(server.tlsChannel(clientCredentials(caFile)))).isEqualTo(ServingStatus.SERVING);
    long pid = server.pid();

    Ca renewedCa = TestCertificates.ca("renewed CA");
    Path renewedCaFile = certs.resolve("renewed-ca.pem");
    renewedCa.write(renewedCaFile);
    renewedCa.server("token-authority renewed").write(serverCert, serverKey);

    // The server checks the files every 200 ms: wait (bounded) for a handshake with the new one.
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    ServingStatus status = null;
    while (status == null && System.nanoTime() < deadline) {
      try {
        status = health(server.tlsChannel(clientCredentials(renewedCaFile)));
      } catch (StatusRuntimeException e) {
        Thread.sleep(100);
      }
    }
    assertThat(status).as("a client trusting only the renewed CA is served\n%s", server.describe())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(server.pid()).isEqualTo(pid);
    assertThat(server.isAlive()).isTrue();
    assertThat(server.stdout()).contains("TLS files changed: now serving certificate CN=token-authority renewed");
  }
}
