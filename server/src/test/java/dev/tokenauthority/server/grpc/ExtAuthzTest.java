package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.SubscriptionStatus;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TenantStatus;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Metadata;
import io.grpc.Status.Code;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Envoy's ext_authz Check over in-process gRPC: modes, where the token comes from, the identity
 * headers for the upstream, denials as HTTP responses, and that it is Redeem and Introspect
 * underneath (single use under concurrency, verify leaving the token redeemable).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class ExtAuthzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String APP = "https://app.acme.example";

  @Parameter TestStore store;
  @TempDir Path dataDir;

  InProcessAuthority ta;
  /** The backend's key in tenant acme: mints tokens. */
  CreateApiKeyResponse minter;
  /** Envoy's key in tenant acme: sessions:redeem only. */
  String envoy;

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @BeforeEach
  void setUp() {
    ta = authority().start();
    ta.tenantAdmin().createTenant(CreateTenantRequest.newBuilder()
        .setTenant(Tenant.newBuilder().setId("acme").setDisplayName("Acme")).build());
    minter = ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("acme").setName("backend")
        .addScopes("sessions:mint").addScopes("chat:write").addScopes("chat:read").addAllowedOrigins(APP).build());
    envoy = ta.createKeyIn("acme", "sessions:redeem");
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private String mint(MintSessionRequest.Builder request) {
    return ta.mint(minter.getSecret(), request.build()).getToken();
  }

  private String mint() {
    return mint(MintSessionRequest.newBuilder().setExternalUserId("rep_8842"));
  }

  AuthorizationGrpc.AuthorizationBlockingStub envoyStub(String secret) {
    ta.remember(secret);
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + secret);
    return AuthorizationGrpc.newBlockingStub(ta.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  static CheckRequest request(Map<String, String> downstreamHeaders, Map<String, String> contextExtensions) {
    return CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder()
            .setRequest(AttributeContext.Request.newBuilder()
                .setHttp(AttributeContext.HttpRequest.newBuilder()
                    .setMethod("POST").setPath("/api/chat").putAllHeaders(downstreamHeaders)))
            .putAllContextExtensions(contextExtensions))
        .build();
  }

  CheckResponse check(Map<String, String> downstreamHeaders, Map<String, String> contextExtensions) {
    return envoyStub(envoy).check(request(downstreamHeaders, contextExtensions));
  }

  CheckResponse redeemCheck(String token) {
    return check(Map.of("x-session-token", token), Map.of());
  }

  CheckResponse verifyCheck(String token) {
    return check(Map.of("x-session-token", token), Map.of("mode", "verify"));
  }

  /** The headers an allowed Check sets for the upstream. */
  static Map<String, String> upstream(CheckResponse r) {
    assertThat(r.hasOkResponse()).as("allowed: %s", r).isTrue();
    assertThat(r.getStatus().getCode()).isZero();
    Map<String, String> set = new LinkedHashMap<>();
    for (HeaderValueOption h : r.getOkResponse().getHeadersList()) {
      assertThat(h.getAppendAction()).as("overwrites what the client sent").isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
      set.put(h.getHeader().getKey(), h.getHeader().getValue());
    }
    return set;
  }

  /**
   * Checks a denial: the HTTP status, the envelope's code, the gRPC code in {@code status},
   * the content type, and that no secret or token is in it.
   *
   * @return the denial's headers
   */
  Map<String, String> assertDenied(CheckResponse r, int http, Code grpc, String reason) throws Exception {
    assertThat(r.hasDeniedResponse()).as("denied: %s", r).isTrue();
    assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(http);
    assertThat(r.getStatus().getCode()).isEqualTo(grpc.value());
    assertThat(ErrorMapper.reasonOf(r.getStatus())).isEqualTo(reason);
    Map<String, String> headers = new HashMap<>();
    r.getDeniedResponse().getHeadersList().forEach(h -> headers.put(h.getHeader().getKey(), h.getHeader().getValue()));
    assertThat(headers).containsEntry("content-type", "application/json");
    JsonNode body = JSON.readTree(r.getDeniedResponse().getBody());
    assertThat(body.path("error").path("code").asText()).isEqualTo(reason);
    assertThat(body.path("error").path("message").asText()).isNotBlank().isEqualTo(r.getStatus().getMessage());
    assertThat(body.path("error").path("details").isArray()).isTrue();
    ta.assertNoSecretIn(io.grpc.protobuf.StatusProto.toStatusRuntimeException(r.getStatus()));
    return headers;
  }

  @Test
  void check_redeemMode_allows_andSetsTheSessionsIdentityForTheUpstream() {
    Struct context = Struct.newBuilder().putFields("persona", Value.newBuilder().setStringValue("Alex").build()).build();
    var minted = ta.mint(minter.getSecret(), MintSessionRequest.newBuilder()
        .setExternalUserId("rep_8842").setExternalGroupId("agency_chicago").setAudience("roleplay")
        .addScopes("chat:write").addScopes("chat:read").setContext(context).build());

    CheckResponse r = check(Map.of("x-session-token", minted.getToken()), Map.of("audience", "roleplay"));

    Map<String, String> upstream = upstream(r);
    assertThat(upstream).containsEntry("x-session-id", minted.getSessionId())
        .containsEntry("x-tenant-id", "acme")
        .containsEntry("x-external-user-id", "rep_8842")
        .containsEntry("x-external-group-id", "agency_chicago")
        .containsEntry("x-session-audience", "roleplay")
        .containsEntry("x-session-scopes", "chat:write chat:read");
    String json = new String(Base64.getUrlDecoder().decode(upstream.get("x-session-context")), StandardCharsets.UTF_8);
    assertThat(json).isEqualTo("{\"persona\":\"Alex\"}");
    assertThat(r.getOkResponse().getHeadersToRemoveList()).containsExactly("x-session-token");
  }

  @Test
  void check_redeemMode_secondUse_isDenied401TokenAlreadyUsed() throws Exception {
    String token = mint();
    upstream(redeemCheck(token));

    Map<String, String> headers = assertDenied(redeemCheck(token), 401, Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED");
    assertThat(headers).containsEntry("www-authenticate", "Bearer realm=\"token-authority\"");
    // The same use was consumed as a Redeem would: Redeem now refuses it too.
    ta.assertFails(Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED",
        () -> ta.stub(ta.createKeyIn("acme", "sessions:redeem")).redeem(RedeemRequest.newBuilder().setToken(token).build()));
  }

  @Test
  void check_noToken_isDenied401SessionRequired() throws Exception {
    assertDenied(check(Map.of("content-type", "application/json"), Map.of()), 401, Code.UNAUTHENTICATED, "SESSION_REQUIRED");
    assertDenied(check(Map.of(), Map.of("mode", "verify")), 401, Code.UNAUTHENTICATED, "SESSION_REQUIRED");
  }

  @Test
  void check_apiKeyInAuthorization_isNotASessionToken_isSessionRequired() throws Exception {
    // A credential that is not a session token is not ours to read, and never a session.
    assertDenied(check(Map.of("authorization", "Bearer " + minter.getSecret()), Map.of()), 401, Code.UNAUTHENTICATED, "SESSION_REQUIRED");
  }

  @Test
  void check_tokenInAuthorizationBearer_allows_andTheUpstreamNeverSeesIt() {
    String token = mint();

    CheckResponse r = check(Map.of("authorization", "Bearer " + token), Map.of());

    assertThat(upstream(r)).containsEntry("x-external-user-id", "rep_8842");
    assertThat(r.getOkResponse().getHeadersToRemoveList()).contains("authorization").doesNotContain("x-session-token");
  }

  @Test
  void check_anotherJwtInAuthorization_isLeftForTheUpstream_andIsNoSessionToken() throws Exception {
    // The upstream's own OIDC access token: a JWT, but not ours (its typ is not session+jwt).
    String oidc = "Bearer " + Base64.getUrlEncoder().withoutPadding().encodeToString(
            "{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
        + ".eyJzdWIiOiJhbGljZSJ9.c2ln";
    String token = mint();

    CheckResponse r = check(Map.of("x-session-token", token, "authorization", oidc), Map.of("mode", "verify"));

    assertThat(upstream(r)).containsEntry("x-external-user-id", "rep_8842");
    assertThat(r.getOkResponse().getHeadersToRemoveList()).contains("x-session-token").doesNotContain("authorization");
    assertDenied(check(Map.of("authorization", oidc), Map.of()), 401, Code.UNAUTHENTICATED, "SESSION_REQUIRED");
  }

  @Test
  void check_rawHeaderMap_isReadLikeHeaders() {
    String token = mint();
    CheckRequest raw = CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder()
            .setRequest(AttributeContext.Request.newBuilder()
                .setHttp(AttributeContext.HttpRequest.newBuilder()
                    .setHeaderMap(HeaderMap.newBuilder().addHeaders(HeaderValue.newBuilder()
                        .setKey("x-session-token").setRawValue(ByteString.copyFromUtf8(token)))))))
        .build();

    assertThat(upstream(envoyStub(envoy).check(raw))).containsEntry("x-external-user-id", "rep_8842");
  }

  @Test
  void check_spoofedIdentityHeaders_areOverwrittenOrRemoved() {
    String token = mint();
    Map<String, String> spoofed = new HashMap<>();
    spoofed.put("x-session-token", token);
    spoofed.put("x-external-user-id", "ceo");
    spoofed.put("x-tenant-id", "other");
    spoofed.put("x-external-group-id", "admins");
    spoofed.put("x-session-scopes", "admin");
    spoofed.put("x-session-context", "eyJyb2xlIjoiYWRtaW4ifQ");
    spoofed.put("x-session-audience", "billing");

    CheckResponse r = check(spoofed, Map.of());

    Map<String, String> upstream = upstream(r);
    assertThat(upstream).containsEntry("x-external-user-id", "rep_8842").containsEntry("x-tenant-id", "acme");
    // The token has no group, scopes, context or audience: what the client sent is removed.
    assertThat(r.getOkResponse().getHeadersToRemoveList()).containsExactlyInAnyOrder(
        "x-session-token", "x-external-group-id", "x-session-scopes", "x-session-context", "x-session-audience");
    // Every identity header is either set or removed: none can pass from the client.
    List<String> covered = new ArrayList<>(upstream.keySet());
    covered.addAll(r.getOkResponse().getHeadersToRemoveList());
    assertThat(covered).containsAll(spoofed.keySet());
  }

  @Test
  void check_verifyMode_consumesNoUse_theTokenStillRedeems() {
    String token = mint();

    for (int i = 0; i < 5; i++) {
      assertThat(upstream(verifyCheck(token))).containsEntry("x-external-user-id", "rep_8842");
    }

    assertThat(ta.stub(envoy).introspect(IntrospectRequest.newBuilder().setToken(token).build()).getActive()).isTrue();
    upstream(redeemCheck(token));
  }

  @Test
  void check_verifyMode_usedToken_isDeniedTokenAlreadyUsed() throws Exception {
    String token = mint();
    upstream(redeemCheck(token));

    assertDenied(verifyCheck(token), 401, Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED");
  }

  @Test
  void check_audience_mustMatchTheRoutes() throws Exception {
    String token = mint(MintSessionRequest.newBuilder().setExternalUserId("u").setAudience("roleplay"));

    assertDenied(check(Map.of("x-session-token", token), Map.of("audience", "billing")), 403, Code.PERMISSION_DENIED, "AUDIENCE_MISMATCH");
    assertDenied(check(Map.of("x-session-token", token), Map.of("audience", "billing", "mode", "verify")),
        403, Code.PERMISSION_DENIED, "AUDIENCE_MISMATCH");
    // A refused audience burnt no use.
    upstream(check(Map.of("x-session-token", token), Map.of("audience", "roleplay")));
  }

  @Test
  void check_boundOrigin_mustBeTheDownstreamOrigin() throws Exception {
    String token = mint(MintSessionRequest.newBuilder().setExternalUserId("u").setOrigin(APP).setMaxUses(2));

    assertDenied(check(Map.of("x-session-token", token), Map.of("mode", "verify")), 403, Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED");
    assertDenied(check(Map.of("x-session-token", token, "origin", "https://evil.example"), Map.of()),
        403, Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED");
    upstream(check(Map.of("x-session-token", token, "origin", APP), Map.of("mode", "verify")));
    upstream(check(Map.of("x-session-token", token, "origin", APP), Map.of()));
  }

  @Test
  void check_tokensOfARevokedKey_areDeniedTokenRevoked_inBothModes() throws Exception {
    String token = mint();
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(minter.getApiKey().getId()).build());

    assertDenied(verifyCheck(token), 401, Code.UNAUTHENTICATED, "TOKEN_REVOKED");
    assertDenied(redeemCheck(token), 401, Code.UNAUTHENTICATED, "TOKEN_REVOKED");
  }

  @Test
  void check_suspendedTenant_isDenied403TenantSuspended_inBothModes() throws Exception {
    String token = mint();
    ta.updateTenant(Tenant.newBuilder().setId("acme").setStatus(TenantStatus.TENANT_STATUS_SUSPENDED).build(), "status");

    assertDenied(verifyCheck(token), 403, Code.PERMISSION_DENIED, "TENANT_SUSPENDED");
    assertDenied(redeemCheck(token), 403, Code.PERMISSION_DENIED, "TENANT_SUSPENDED");
  }

  @Test
  void check_cancelledSubscription_isDenied403SubscriptionCancelled_inBothModes_notAFailedCheck() throws Exception {
    String token = mint();
    ta.updateTenant(
        Tenant.newBuilder().setId("acme").setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELLED).build(),
        "subscription_status");

    assertDenied(verifyCheck(token), 403, Code.PERMISSION_DENIED, "SUBSCRIPTION_CANCELLED");
    assertDenied(redeemCheck(token), 403, Code.PERMISSION_DENIED, "SUBSCRIPTION_CANCELLED");
  }

  @Test
  void check_tenantOutOfQuota_isDenied429WithTheLimitHeaders() throws Exception {
    ta.updateTenant(Tenant.newBuilder().setId("acme").setMonthlySessionQuota(1).build(), "monthly_session_quota");
    String first = mint();
    String second = mint();
    upstream(redeemCheck(first));

    Map<String, String> headers = assertDenied(redeemCheck(second), 429, Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED");

    assertThat(headers).containsEntry("x-ratelimit-limit", "1").containsEntry("x-ratelimit-remaining", "0");
    long reset = Long.parseLong(headers.get("x-ratelimit-reset"));
    long retryAfter = Long.parseLong(headers.get("retry-after"));
    long now = ta.clock().instant().getEpochSecond();
    assertThat(reset).isGreaterThan(now);
    assertThat(retryAfter).isPositive().isEqualTo(reset - now);
  }

  @Test
  void check_withoutAValidApiKey_failsLikeAnyRpc() {
    CheckRequest request = request(Map.of("x-session-token", mint()), Map.of());
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REQUIRED",
        () -> AuthorizationGrpc.newBlockingStub(ta.channel()).withDeadlineAfter(10, TimeUnit.SECONDS).check(request));
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> envoyStub("sk_" + "x".repeat(40)).check(request));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> envoyStub(minter.getSecret()).check(request));
  }

  @Test
  void check_unknownMode_failsInvalidArgument_withoutConsumingAUse() {
    String token = mint();
    ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> check(Map.of("x-session-token", token), Map.of("mode", "consume")));
    upstream(redeemCheck(token));
  }

  @Test
  void check_otherTenantsToken_isDeniedTokenInvalid() throws Exception {
    String otherEnvoy = ta.createKey("sessions:redeem");
    String token = mint();

    CheckResponse r = envoyStub(otherEnvoy).check(request(Map.of("x-session-token", token), Map.of()));

    assertDenied(r, 401, Code.UNAUTHENTICATED, "TOKEN_INVALID");
  }

  @Test
  void check_64ConcurrentChecksOfA3UseToken_allowExactly3() throws Exception {
    ta.close();
    ta = authority().directExecutor(false).start();
    ta.tenantAdmin().createTenant(CreateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("acme")).build());
    minter = ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("acme").setName("backend").addScopes("sessions:mint").build());
    envoy = ta.createKeyIn("acme", "sessions:redeem");
    String token = mint(MintSessionRequest.newBuilder().setExternalUserId("u").setMaxUses(3));
    int n = 64;
    CyclicBarrier start = new CyclicBarrier(n);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<CheckResponse>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Callable<CheckResponse> call = () -> {
          start.await(10, TimeUnit.SECONDS);
          return redeemCheck(token);
        };
        results.add(pool.submit(call));
      }
      int allowed = 0;
      for (Future<CheckResponse> f : results) {
        CheckResponse r = f.get(30, TimeUnit.SECONDS);
        if (r.hasOkResponse()) {
          allowed++;
        } else {
          assertDenied(r, 401, Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED");
        }
      }
      assertThat(allowed).isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
  }
}
