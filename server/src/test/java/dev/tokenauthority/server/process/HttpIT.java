package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.http.HttpTestClient;
import dev.tokenauthority.server.testing.TestCertificates;
import dev.tokenauthority.server.testing.TestCertificates.Ca;
import dev.tokenauthority.server.testing.TestCertificates.Issued;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.UpdateTenantRequest;
import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real jar's HTTP/JSON port beside its gRPC port: one authority behind both (single use,
 * the rate limit and the quota are shared), HTTPS and mTLS with the gRPC port's certificates,
 * a SIGTERM that drains HTTP calls too, and (as every process test) no secret in the log.
 */
class HttpIT extends ProcessTestBase {
  @TempDir Path dataDir;
  @TempDir Path certs;

  private ServerProcess startWithAdmin(String admin, String... args) throws IOException {
    return start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), args);
  }

  private String createKey(ServerProcess server, String admin) {
    return secret(server.stub(admin)
        .createApiKey(CreateApiKeyRequest.newBuilder().setName("backend").addScopes("sessions:mint").addScopes("sessions:redeem").build())
        .getSecret());
  }

  private String redeemJson(String token) {
    return "{\"token\":\"" + token + "\"}";
  }

  @Test
  void tokenMintedOverGrpc_redeemsOnceOverHttp_thenNeitherTransportAcceptsIt() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startWithAdmin(admin);
    HttpTestClient http = HttpTestClient.local(server.httpPort());
    String key = createKey(server, admin);
    MintSessionResponse minted = server.stub(key).mintSession(MintSessionRequest.newBuilder().setExternalUserId("rep_8842").build());
    secret(minted.getToken());

    HttpTestClient.Reply first = http.post("/v1/sessions:redeem", key, redeemJson(minted.getToken()));
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.field("sessionId")).isEqualTo(minted.getSessionId());

    HttpTestClient.Reply again = http.post("/v1/sessions:redeem", key, redeemJson(minted.getToken()));
    assertThat(again.status()).isEqualTo(401);
    assertThat(again.code()).isEqualTo("TOKEN_ALREADY_USED");
    StatusRuntimeException overGrpc = catchThrowableOfType(StatusRuntimeException.class,
        () -> server.stub(key).redeem(RedeemRequest.newBuilder().setToken(minted.getToken()).build()));
    assertThat(overGrpc.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void rateLimitAndQuota_areSharedAcrossTransports() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startWithAdmin(admin);
    HttpTestClient http = HttpTestClient.local(server.httpPort());
    server.tenantAdmin(admin).updateTenant(UpdateTenantRequest.newBuilder()
        .setTenant(Tenant.newBuilder().setId("default").setMintRatePerMinute(2).setMonthlySessionQuota(1))
        .setUpdateMask(FieldMask.newBuilder().addPaths("mint_rate_per_minute").addPaths("monthly_session_quota"))
        .build());
    String key = createKey(server, admin);

    MintSessionResponse overGrpc = server.stub(key).mintSession(MintSessionRequest.newBuilder().setExternalUserId("u1").build());
    secret(overGrpc.getToken());
    HttpTestClient.Reply overHttp = http.post("/v1/sessions", key, "{\"externalUserId\":\"u2\"}");
    assertThat(overHttp.status()).isEqualTo(200);
    secret(overHttp.field("token"));
    assertThat(overHttp.header("x-ratelimit-remaining")).isEqualTo("0");
    HttpTestClient.Reply third = http.post("/v1/sessions", key, "{\"externalUserId\":\"u3\"}");
    assertThat(third.status()).isEqualTo(429);
    assertThat(third.code()).isEqualTo("RATE_LIMITED");
    assertThat(third.header("retry-after")).isNotNull();
    StatusRuntimeException limitedOverGrpc = catchThrowableOfType(StatusRuntimeException.class,
        () -> server.stub(key).mintSession(MintSessionRequest.newBuilder().setExternalUserId("u4").build()));
    assertThat(limitedOverGrpc.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

    // The month's one redemption is used over HTTP; the next, over gRPC, is over quota.
    assertThat(http.post("/v1/sessions:redeem", key, redeemJson(overHttp.field("token"))).status()).isEqualTo(200);
    StatusRuntimeException overQuota = catchThrowableOfType(StatusRuntimeException.class,
        () -> server.stub(key).redeem(RedeemRequest.newBuilder().setToken(overGrpc.getToken()).build()));
    assertThat(overQuota.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(ServerProcess.reason(overQuota)).isEqualTo("QUOTA_EXCEEDED");
  }

  @Test
  void httpsWithClientCertificates_servesOnlyClientsWithACertificateOfTheCa() throws Exception {
    Ca ca = TestCertificates.ca("http it CA");
    Path caFile = certs.resolve("ca.pem");
    ca.write(caFile);
    Issued serverIssued = ca.server("token-authority http it");
    Path serverCert = certs.resolve("server.pem");
    Path serverKey = certs.resolve("server.key");
    serverIssued.write(serverCert, serverKey);
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startWithAdmin(admin, "--tls-cert", serverCert.toString(), "--tls-key", serverKey.toString(),
        "--tls-client-ca", caFile.toString());
    assertThat(server.output()).contains("HTTPS with client certificates");
    String base = "https://localhost:" + server.httpPort();

    HttpTestClient withCertificate = new HttpTestClient(base,
        HttpClient.newBuilder().sslContext(ssl(ca, ca.client("backend"))).build());
    HttpTestClient.Reply health = withCertificate.get("/healthz", null);
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.version()).as("h2 over TLS").isEqualTo(HttpClient.Version.HTTP_2);
    HttpTestClient.Reply minted = withCertificate.post("/v1/sessions", admin, "{\"externalUserId\":\"u1\"}");
    assertThat(minted.status()).isEqualTo(200);
    secret(minted.field("token"));

    HttpTestClient without = new HttpTestClient(base, HttpClient.newBuilder().sslContext(ssl(ca, null)).build());
    assertThatThrownBy(() -> without.get("/healthz", null)).isInstanceOf(java.io.UncheckedIOException.class);
    HttpTestClient plain = HttpTestClient.local(server.httpPort());
    assertThatThrownBy(() -> plain.get("/healthz", null)).isInstanceOf(java.io.UncheckedIOException.class);
  }

  @Test
  void httpsWithClientCertificates_aClientCaRemovedWhileConnected_refusesThatConnectionsCalls() throws Exception {
    Ca ca = TestCertificates.ca("http it CA");
    Path caFile = certs.resolve("ca.pem");
    ca.write(caFile);
    Path clientCaFile = certs.resolve("client-ca.pem");
    ca.write(clientCaFile);
    Path serverCert = certs.resolve("server.pem");
    Path serverKey = certs.resolve("server.key");
    ca.server("token-authority http it").write(serverCert, serverKey);
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startWithAdmin(admin, "--tls-cert", serverCert.toString(), "--tls-key", serverKey.toString(),
        "--tls-client-ca", clientCaFile.toString(), "--tls-reload-interval", "200ms");
    HttpTestClient client = new HttpTestClient("https://localhost:" + server.httpPort(),
        HttpClient.newBuilder().sslContext(ssl(ca, ca.client("backend"))).build());
    assertThat(client.get("/healthz", null).status()).isEqualTo(200);
    assertThat(client.post("/v1/sessions", admin, "{\"externalUserId\":\"u1\"}").status()).isEqualTo(200);

    // The operator swaps the client CA; this client keeps its HTTP/2 connection (or resumes its
    // TLS session), which TLS alone would go on serving.
    Ca next = TestCertificates.ca("new client CA");
    next.write(clientCaFile);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    HttpTestClient.Reply mint = client.post("/v1/sessions", admin, "{\"externalUserId\":\"u2\"}");
    while (mint.status() == 200 && System.nanoTime() < deadline) {
      Thread.sleep(100);
      mint = client.post("/v1/sessions", admin, "{\"externalUserId\":\"u2\"}");
    }
    assertThat(mint.status()).as("%s", server.describe()).isEqualTo(401);
    assertThat(mint.code()).isEqualTo("CLIENT_CERTIFICATE_UNTRUSTED");
    assertThat(mint.json().getAsJsonObject("error").get("message").getAsString()).contains("client certificate");

    // A new client (no TLS session to offer) with the same certificate: its full handshake
    // refuses it. One with a certificate of the new CA is served.
    HttpTestClient fresh = new HttpTestClient("https://localhost:" + server.httpPort(),
        HttpClient.newBuilder().sslContext(ssl(ca, ca.client("backend"))).build());
    assertThatThrownBy(() -> fresh.get("/healthz", null)).isInstanceOf(java.io.UncheckedIOException.class);
    HttpTestClient renewed = new HttpTestClient("https://localhost:" + server.httpPort(),
        HttpClient.newBuilder().sslContext(ssl(ca, next.client("backend-2"), next)).build());
    assertThat(renewed.get("/healthz", null).status()).isEqualTo(200);
  }

  private static SSLContext ssl(Ca ca, Issued client) throws Exception {
    return ssl(ca, client, ca);
  }

  /** Trusting {@code ca}; presenting {@code client}, issued by {@code issuer}, when not null. */
  private static SSLContext ssl(Ca ca, Issued client, Ca issuer) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (client != null) {
      char[] password = "test".toCharArray();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("client", client.keys().getPrivate(), password, new Certificate[] {client.certificate(), issuer.certificate()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  @Test
  void sigterm_withAnHttpCallHalfSent_finishesTheCallAndExitsZero() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = startWithAdmin(admin, "--shutdown-grace", "10s");
    int httpPort = server.httpPort();
    assertThat(HttpTestClient.local(httpPort).get("/healthz", null).status()).isEqualTo(200);
    String body = "{\"externalUserId\":\"in-flight\"}";
    try (Socket socket = new Socket("127.0.0.1", httpPort)) {
      socket.setSoTimeout(15_000);
      HttpTestClient.startMintWithPartBody(socket, admin, body, 10);
      Thread.sleep(500);
      server.sigterm();
      Thread.sleep(1_000);
      assertThat(server.isAlive()).as("waits for the call in flight").isTrue();
      socket.getOutputStream().write(body.substring(10).getBytes(StandardCharsets.US_ASCII));
      String reply = readResponse(socket.getInputStream());
      assertThat(reply).startsWith("HTTP/1.1 200");
      secret(reply.replaceAll("(?s).*\"token\":\"([^\"]+)\".*", "$1"));
    }
    assertThat(server.waitFor(Duration.ofSeconds(15))).isZero();
    assertThat(server.output()).contains("stopped");
  }

  /** One HTTP/1.1 response with a content-length, read without waiting for the connection to close. */
  private static String readResponse(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
    int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
    byte[] body = in.readNBytes(length);
    return head + new String(body, StandardCharsets.UTF_8);
  }
}
