package dev.tokenauthority.client.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpServer;
import dev.tokenauthority.client.CreateApiKeyParams;
import dev.tokenauthority.client.MintSessionParams;
import dev.tokenauthority.client.RedeemParams;
import dev.tokenauthority.client.TenantParams;
import dev.tokenauthority.client.TokenAuthorityClient;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The examples of docs/integration.md, run: a browser asks the backend's endpoint for a token
 * over HTTP, the roleplay service redeems it, the dashboard verifies offline.
 */
class IntegrationExamplesTest {
  private static final String APP_ORIGIN = "https://app.example.com";

  private InProcessAuthority ta;
  private HttpServer backend;
  private TokenAuthorityClient backendClient;
  private TokenAuthorityClient roleplayClient;
  private final HttpClient browser = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    // The clock stands at the real time, so the offline verifier's system clock agrees with it.
    ta = InProcessAuthority.builder().clock(new TestClock(Instant.now().truncatedTo(ChronoUnit.SECONDS))).start();
    TokenAuthorityClient admin = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.adminSecret()).build();
    String mintKey =
        admin.createApiKey(CreateApiKeyParams.named("backend").scopes("sessions:mint").allowedOrigins(List.of(APP_ORIGIN)).build())
            .secret();
    String redeemKey = admin.createApiKey(CreateApiKeyParams.named("roleplay").scopes("sessions:redeem").build()).secret();
    backendClient = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(mintKey).build();
    roleplayClient = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(redeemKey).build();

    TokenEndpoint.SignedInUsers users =
        request ->
            "session=s3cr3t".equals(request.getRequestHeaders().getFirst("Cookie"))
                ? Optional.of(new TokenEndpoint.User("rep_8842", "agency_chicago"))
                : Optional.empty();
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    backend.createContext("/roleplay/token", new TokenEndpoint(backendClient, users, APP_ORIGIN));
    backend.start();
  }

  @AfterEach
  void stop() throws Exception {
    backend.stop(0);
    ta.close();
  }

  private HttpResponse<String> askForToken(String cookie, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + backend.getAddress().getPort() + "/roleplay/token"))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    return browser.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String token(HttpResponse<String> response) throws Exception {
    Struct.Builder json = Struct.newBuilder();
    JsonFormat.parser().merge(response.body(), json);
    return json.getFieldsOrThrow("token").getStringValue();
  }

  @Test
  void signedInUser_getsATokenForThemselves_whateverTheBodySays() throws Exception {
    HttpResponse<String> response = askForToken("session=s3cr3t", "{\"externalUserId\":\"ceo_0001\"}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Cache-Control")).contains("no-store");
    RoleplayService.Conversation conversation = new RoleplayService(roleplayClient).open(token(response), APP_ORIGIN);
    assertThat(conversation).isEqualTo(new RoleplayService.Conversation("rep_8842", "agency_chicago", "Alex"));
  }

  @Test
  void monthlyQuotaUsedUp_getsA429ThatSaysSo_notATryAgainLater() throws Exception {
    TokenAuthorityClient admin = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.adminSecret()).build();
    admin.updateTenant("default", TenantParams.builder().monthlySessionQuota(1).build());
    new RoleplayService(roleplayClient).open(token(askForToken("session=s3cr3t", "{}")), APP_ORIGIN);
    Thread.sleep(600); // past the authority's 0.5 s cache of the month's count

    HttpResponse<String> refused = askForToken("session=s3cr3t", "{}");

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.body()).contains("used up");
    assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(s -> assertThat(Long.parseLong(s)).isPositive());
  }

  @Test
  void notSignedIn_getsNoToken() throws Exception {
    HttpResponse<String> response = askForToken(null, "{\"externalUserId\":\"rep_8842\"}");

    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body()).doesNotContain("token");
  }

  @Test
  void roleplay_secondUseOfAToken_isRefused() throws Exception {
    String token = token(askForToken("session=s3cr3t", "{}"));
    RoleplayService roleplay = new RoleplayService(roleplayClient);
    roleplay.open(token, APP_ORIGIN);

    RoleplayService.Refused refused = catchThrowableOfType(RoleplayService.Refused.class, () -> roleplay.open(token, APP_ORIGIN));

    assertThat(refused.status()).isEqualTo(401);
  }

  @Test
  void roleplay_tokenPresentedFromAnotherOrigin_isRefused() throws Exception {
    String token = token(askForToken("session=s3cr3t", "{}"));

    RoleplayService.Refused refused =
        catchThrowableOfType(
            RoleplayService.Refused.class, () -> new RoleplayService(roleplayClient).open(token, "https://evil.example.net"));

    assertThat(refused.status()).isEqualTo(403);
  }

  @Test
  void dashboard_verifiesItsOwnTokensOffline_andNothingElse() throws Exception {
    DashboardGate gate = new DashboardGate(roleplayClient, "default");
    String forDashboard = backendClient.mintSession(MintSessionParams.forUser("rep_8842").audience("dashboard").build()).token();
    String forRoleplay = token(askForToken("session=s3cr3t", "{}"));
    String edited = forDashboard.substring(0, forDashboard.lastIndexOf('.') + 1) + "AAAA";
    ta.createTenant("evil");
    String evilKey = ta.createKeyIn("evil", "sessions:mint");
    String anotherTenants;
    try (TokenAuthorityClient evil = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(evilKey).build()) {
      anotherTenants = evil.mintSession(MintSessionParams.forUser("rep_8842").audience("dashboard").build()).token();
    }

    assertThat(gate.viewer(forDashboard)).contains("rep_8842");
    assertThat(gate.viewer(forDashboard)).as("offline verification does not use the token up").contains("rep_8842");
    assertThat(gate.viewer(forRoleplay)).isEmpty();
    assertThat(gate.viewer(edited)).isEmpty();
    assertThat(gate.viewer(anotherTenants)).as("signed by the same keys, minted by another tenant").isEmpty();
  }

  @Test
  void authorityClients_buildsATlsClientWithTheShortDeadline() {
    try (TokenAuthorityClient client = AuthorityClients.connect("token-authority.internal:443", "sk_example")) {
      assertThat(client.toString()).contains("token-authority.internal:443", "deadline=PT2S").doesNotContain("sk_example");
    }
  }

  @Test
  void contextNumbers_comeBackAsDoubles() throws Exception {
    String token = token(askForToken("session=s3cr3t", "{}"));

    Map<String, Object> context =
        roleplayClient.redeem(RedeemParams.token(token).audience("roleplay").origin(APP_ORIGIN).build()).context();

    assertThat(context).containsEntry("difficulty", 2.0);
  }
}
