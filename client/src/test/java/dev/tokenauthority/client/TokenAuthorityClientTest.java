package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.client.testing.NettyAuthority;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every TokenAuthority RPC through the typed client, against the real server in-process and over Netty. */
class TokenAuthorityClientTest {
  private InProcessAuthority ta;
  private TokenAuthorityClient admin;

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
    admin = client(ta.adminSecret());
  }

  @AfterEach
  void stop() throws Exception {
    admin.close();
    ta.close();
  }

  private TokenAuthorityClient client(String apiKey) {
    return TokenAuthorityClient.builder().channel(ta.channel()).apiKey(apiKey).build();
  }

  private TokenAuthorityClient backend() {
    return client(ta.createKey("sessions:mint", "sessions:redeem"));
  }

  @Test
  void mintThenRedeem_secondRedeem_isTokenAlreadyUsed() {
    TokenAuthorityClient backend = backend();

    MintedSession minted = backend.mintSession("rep_8842");
    RedeemedSession redeemed = backend.redeem(minted.token());

    assertThat(redeemed.externalUserId()).isEqualTo("rep_8842");
    assertThat(redeemed.sessionId()).isEqualTo(minted.sessionId());
    assertThat(redeemed.tenantId()).isEqualTo("default");
    assertThat(redeemed.usesRemaining()).isZero();
    assertThatThrownBy(() -> backend.redeem(minted.token()))
        .isInstanceOfSatisfying(
            TokenAuthorityException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ErrorReason.TOKEN_ALREADY_USED);
              assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
            });
  }

  @Test
  void mintSession_defaults_expireAfterTheTenantDefaultTtl() {
    MintedSession minted = backend().mintSession("rep_8842");

    assertThat(minted.expiresIn()).isEqualTo(Duration.ofSeconds(300));
    assertThat(minted.expireTime()).isEqualTo(TestClock.DEFAULT_START.plusSeconds(300));
    assertThat(minted.sessionId()).startsWith("ses_");
  }

  @Test
  void mintSession_everyOption_redeemReturnsThem() {
    String key =
        admin.createApiKey(
                CreateApiKeyParams.named("web backend")
                    .scopes("sessions:mint", "sessions:redeem")
                    .allowedOrigins(List.of("https://app.example.com"))
                    .build())
            .secret();
    TokenAuthorityClient backend = client(key);
    Map<String, Object> context = new HashMap<>();
    context.put("persona", "Alex");
    context.put("difficulty", 3);
    context.put("voice", true);
    context.put("notes", null);
    context.put("tags", List.of("onboarding", 2));
    context.put("chatbot", Map.of("id", "cb_17"));

    MintedSession minted =
        backend.mintSession(
            MintSessionParams.forUser("rep_8842")
                .group("agency_chicago")
                .audience("roleplay")
                .ttl(Duration.ofMinutes(10))
                .maxUses(2)
                .scopes(List.of("sessions:redeem"))
                .origin("https://app.example.com")
                .context(context)
                .build());
    RedeemedSession r =
        backend.redeem(RedeemParams.token(minted.token()).audience("roleplay").origin("https://app.example.com").build());

    assertThat(minted.expiresIn()).isEqualTo(Duration.ofMinutes(10));
    assertThat(r.externalGroupId()).contains("agency_chicago");
    assertThat(r.audience()).contains("roleplay");
    assertThat(r.scopes()).containsExactly("sessions:redeem");
    assertThat(r.usesRemaining()).isEqualTo(1);
    assertThat(r.issueTime()).isEqualTo(TestClock.DEFAULT_START);
    assertThat(r.expireTime()).isEqualTo(TestClock.DEFAULT_START.plus(Duration.ofMinutes(10)));
    assertThat(r.context())
        .containsEntry("persona", "Alex")
        .containsEntry("difficulty", 3.0)
        .containsEntry("voice", true)
        .containsEntry("notes", null)
        .containsEntry("tags", Arrays.asList("onboarding", 2.0))
        .containsEntry("chatbot", Map.of("id", "cb_17"));
  }

  @Test
  void redeem_noGroupOrAudience_areEmpty() {
    TokenAuthorityClient backend = backend();
    RedeemedSession r = backend.redeem(backend.mintSession("rep_8842").token());

    assertThat(r.externalGroupId()).isEmpty();
    assertThat(r.audience()).isEmpty();
    assertThat(r.context()).isEmpty();
  }

  @Test
  void mintSession_contextOfAnUnsupportedType_isRefusedBeforeAnyCall() {
    assertThatThrownBy(() -> MintSessionParams.forUser("u").context(Map.of("when", Instant.now())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("context when");
  }

  @Test
  void mintSession_ttlNotWholeSeconds_isRefusedBeforeAnyCall() {
    assertThatThrownBy(() -> MintSessionParams.forUser("u").ttl(Duration.ofMillis(1500)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MintSessionParams.forUser("u").ttl(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void introspect_beforeAndAfterRedeem_activeThenAlreadyUsed() {
    TokenAuthorityClient backend = backend();
    MintedSession minted = backend.mintSession(MintSessionParams.forUser("rep_8842").audience("roleplay").build());

    Introspection before = backend.introspect(minted.token());
    backend.redeem(minted.token());
    Introspection after = backend.introspect(minted.token());

    assertThat(before.active()).isTrue();
    assertThat(before.reason()).isEmpty();
    assertThat(before.externalUserId()).contains("rep_8842");
    assertThat(before.audience()).contains("roleplay");
    assertThat(before.usesRemaining()).isEqualTo(1);
    assertThat(before.expireTime()).contains(TestClock.DEFAULT_START.plusSeconds(300));
    assertThat(after.active()).isFalse();
    assertThat(after.reason()).contains(ErrorReason.TOKEN_ALREADY_USED);
    assertThat(after.externalUserId()).isEmpty();
  }

  @Test
  void createListRevokeApiKey_revokedKey_isRefused() {
    Instant expires = TestClock.DEFAULT_START.plus(Duration.ofDays(30));
    CreatedApiKey created =
        admin.createApiKey(CreateApiKeyParams.named("backend").scopes("sessions:mint").expireTime(expires).build());

    List<ApiKeyInfo> listed = admin.listApiKeys().apiKeys();
    Instant revoked = admin.revokeApiKey(created.apiKey().id());

    assertThat(created.secret()).startsWith("sk_");
    assertThat(created.apiKey().expireTime()).contains(expires);
    assertThat(created.apiKey().hint()).endsWith(created.secret().substring(created.secret().length() - 4));
    assertThat(listed).extracting(ApiKeyInfo::id).contains(created.apiKey().id());
    assertThat(listed.toString()).doesNotContain(created.secret());
    assertThat(revoked).isEqualTo(TestClock.DEFAULT_START);
    assertThatThrownBy(() -> client(created.secret()).mintSession("rep_8842"))
        .isInstanceOfSatisfying(
            TokenAuthorityException.class, e -> assertThat(e.reason()).isEqualTo(ErrorReason.API_KEY_REVOKED));
  }

  @Test
  void listApiKeys_pageSize_pagesThroughEveryKey() {
    for (int i = 0; i < 3; i++) {
      ta.createKey("sessions:mint");
    }
    ApiKeyPage first = admin.listApiKeys("", 2, "");
    ApiKeyPage second = admin.listApiKeys("", 2, first.nextPageToken().orElseThrow());

    assertThat(first.apiKeys()).hasSize(2);
    assertThat(second.apiKeys()).hasSize(2); // the admin key and the three new ones
    assertThat(second.nextPageToken()).isEmpty();
  }

  @Test
  void revokeSession_andRevokeToken_makeTheTokenRevoked() {
    TokenAuthorityClient backend = backend();
    MintedSession byId = backend.mintSession("rep_1");
    MintedSession byToken = backend.mintSession("rep_2");

    backend.revokeSession(byId.sessionId());
    backend.revokeToken(byToken.token());

    for (MintedSession m : List.of(byId, byToken)) {
      assertThatThrownBy(() -> backend.redeem(m.token()))
          .isInstanceOfSatisfying(
              TokenAuthorityException.class, e -> assertThat(e.reason()).isEqualTo(ErrorReason.TOKEN_REVOKED));
    }
  }

  @Test
  void getJwks_anyKey_returnsTheActiveEd25519Key() {
    JsonWebKeySet jwks = client(ta.createKey("sessions:redeem")).getJwks();

    assertThat(jwks.keys()).hasSize(1);
    JsonWebKey key = jwks.keys().get(0);
    assertThat(key.kid()).isEqualTo(ta.authority().signingKeys().active().kid());
    assertThat(key.kty()).isEqualTo("OKP");
    assertThat(key.crv()).isEqualTo("Ed25519");
    assertThat(key.alg()).isEqualTo("EdDSA");
    assertThat(jwks.find(key.kid())).contains(key);
  }

  @Test
  void toStrings_neverShowTheApiKeyTokenOrSecret() {
    TokenAuthorityClient backend = backend();
    MintedSession minted = backend.mintSession("rep_8842");
    CreatedApiKey created = admin.createApiKey(CreateApiKeyParams.named("k").scopes("sessions:mint").build());

    assertThat(new ApiKeyCredentials(ta.adminSecret()).toString()).doesNotContain(ta.adminSecret()).contains("redacted");
    assertThat(admin.toString()).doesNotContain(ta.adminSecret());
    assertThat(minted.toString()).doesNotContain(minted.token()).contains(minted.sessionId());
    assertThat(created.toString()).doesNotContain(created.secret()).contains(created.apiKey().id());
  }

  @Test
  void apiKeyReadFromAFile_withItsLineBreak_works() {
    String key = ta.createKey("sessions:mint");

    assertThat(client(key + "\n").mintSession("rep_8842").token()).isNotEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"\n", "\u0000", "é"})
  void apiKeyWithACharacterNoHeaderCanCarry_isRefusedAtBuild_withoutEchoingIt(String bad) {
    String key = ta.createKey("sessions:mint");
    String broken = key.substring(0, 10) + bad + key.substring(10);

    assertThatThrownBy(() -> client(broken))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("printable ASCII")
        .hasMessageNotContaining(key.substring(0, 10))
        .hasMessageNotContaining(key.substring(10));
  }

  @Test
  void close_givenChannel_leavesItOpen() {
    String key = ta.createKey("sessions:mint");
    client(key).close();

    assertThat(ta.channel().isShutdown()).isFalse();
    assertThat(client(key).mintSession("rep_8842").token()).isNotEmpty();
  }

  @Test
  void overNetty_seedFlow_andCloseShutsDownItsOwnChannel() throws Exception {
    try (NettyAuthority server = NettyAuthority.start()) {
      TokenAuthorityClient netAdmin =
          TokenAuthorityClient.builder().target(server.target()).plaintext().apiKey(server.adminSecret()).build();
      String key = netAdmin.createApiKey(CreateApiKeyParams.named("b").scopes("sessions:mint", "sessions:redeem").build()).secret();
      try (TokenAuthorityClient backend =
          TokenAuthorityClient.builder().target(server.target()).plaintext().apiKey(key).deadline(Duration.ofSeconds(5)).build()) {
        String token = backend.mintSession("rep_8842").token();
        assertThat(backend.redeem(token).externalUserId()).isEqualTo("rep_8842");
      }
      netAdmin.close();

      assertThatThrownBy(netAdmin::getJwks)
          .isInstanceOfSatisfying(
              TokenAuthorityException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
    }
  }

  @Test
  void builder_contradictoryOrMissingOptions_areRefused() {
    assertThatThrownBy(() -> TokenAuthorityClient.builder().channel(ta.channel()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("API key");
    assertThatThrownBy(() -> TokenAuthorityClient.builder().apiKey("k").build()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> TokenAuthorityClient.builder().channel(ta.channel()).target("x:1").apiKey("k").build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> TokenAuthorityClient.builder().channel(ta.channel()).plaintext().apiKey("k").build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> TokenAuthorityClient.builder().target("x:1").plaintext().tls().apiKey("k").build())
        .isInstanceOf(IllegalStateException.class);
  }
}
