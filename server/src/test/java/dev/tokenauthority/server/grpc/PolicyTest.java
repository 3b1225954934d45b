package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import com.google.rpc.QuotaFailure;
import com.google.rpc.RetryInfo;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.SubscriptionStatus;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TenantStatus;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.Metadata;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every policy reason of api.md, one row each: a tenant set up one way, a call, and the gRPC
 * code and ErrorInfo reason it must get. It runs on every store.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class PolicyTest {
  @Parameter TestStore store;
  @TempDir Path dataDir;

  private static final Metadata.Key<String> LIMIT = Metadata.Key.of("x-ratelimit-limit", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> REMAINING = Metadata.Key.of("x-ratelimit-remaining", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> RESET = Metadata.Key.of("x-ratelimit-reset", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> ORIGIN = Metadata.Key.of("origin", Metadata.ASCII_STRING_MARSHALLER);

  InProcessAuthority ta;
  /** A tenant of its own per test, with a key that may mint, redeem and manage keys. */
  String key;

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @BeforeEach
  void setUp() {
    ta = authority().start();
    ta.tenantAdmin().createTenant(dev.tokenauthority.v1.CreateTenantRequest.newBuilder()
        .setTenant(Tenant.newBuilder().setId("acme").setDisplayName("Acme")).build());
    key = ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("acme").setName("backend")
        .addScopes("sessions:mint").addScopes("sessions:redeem").addScopes("keys:read").addScopes("keys:write")
        .addAllowedOrigins("https://app.acme.example").build()).getSecret();
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private void update(Tenant.Builder changes, String... paths) {
    ta.updateTenant(changes.setId("acme").build(), paths);
  }

  private String mint(MintSessionRequest.Builder r) {
    return ta.mint(key, r.build()).getToken();
  }

  private static MintSessionRequest.Builder user(String id) {
    return MintSessionRequest.newBuilder().setExternalUserId(id);
  }

  private void redeem(String token) {
    ta.stub(key).redeem(RedeemRequest.newBuilder().setToken(token).build());
  }

  /** One row: set the tenant up, then the call that must fail with this code and reason. */
  record Row(String name, Code code, String reason, Consumer<PolicyTest> call) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> rows() {
    return Stream.of(
        row("suspended tenant cannot mint", Code.PERMISSION_DENIED, "TENANT_SUSPENDED", t -> {
          t.update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_SUSPENDED), "status");
          t.mint(user("u1"));
        }),
        row("suspending a tenant stops its outstanding tokens at once", Code.PERMISSION_DENIED, "TENANT_SUSPENDED", t -> {
          String token = t.mint(user("u1"));
          t.update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_SUSPENDED), "status");
          t.redeem(token);
        }),
        row("inactive tenant cannot mint", Code.PERMISSION_DENIED, "TENANT_INACTIVE", t -> {
          t.update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_INACTIVE), "status");
          t.mint(user("u1"));
        }),
        row("inactive tenant cannot redeem", Code.PERMISSION_DENIED, "TENANT_INACTIVE", t -> {
          String token = t.mint(user("u1"));
          t.update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_INACTIVE), "status");
          t.redeem(token);
        }),
        row("suspended tenant cannot create keys", Code.PERMISSION_DENIED, "TENANT_SUSPENDED", t -> {
          t.update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_SUSPENDED), "status");
          t.ta.stub(t.key).createApiKey(CreateApiKeyRequest.newBuilder().setName("k").addScopes("sessions:mint").build());
        }),
        row("past-due subscription cannot mint", Code.PERMISSION_DENIED, "SUBSCRIPTION_PAST_DUE", t -> {
          t.update(Tenant.newBuilder().setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE), "subscription_status");
          t.mint(user("u1"));
        }),
        row("cancelled subscription cannot redeem", Code.PERMISSION_DENIED, "SUBSCRIPTION_CANCELLED", t -> {
          String token = t.mint(user("u1"));
          t.update(Tenant.newBuilder().setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELLED), "subscription_status");
          t.redeem(token);
        }),
        row("cancelled subscription cannot even list keys", Code.PERMISSION_DENIED, "SUBSCRIPTION_CANCELLED", t -> {
          t.update(Tenant.newBuilder().setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELLED), "subscription_status");
          t.ta.stub(t.key).listApiKeys(ListApiKeysRequest.getDefaultInstance());
        }),
        row("audience outside the enabled modules", Code.PERMISSION_DENIED, "MODULE_NOT_ENABLED", t -> {
          t.update(Tenant.newBuilder().addEnabledModules("chat").addEnabledModules("voice"), "enabled_modules");
          t.mint(user("u1").setAudience("billing"));
        }),
        row("no audience when modules are enabled", Code.PERMISSION_DENIED, "MODULE_NOT_ENABLED", t -> {
          t.update(Tenant.newBuilder().addEnabledModules("chat"), "enabled_modules");
          t.mint(user("u1"));
        }),
        row("a module disabled after mint stops its tokens", Code.PERMISSION_DENIED, "MODULE_NOT_ENABLED", t -> {
          t.update(Tenant.newBuilder().addEnabledModules("chat").addEnabledModules("voice"), "enabled_modules");
          String token = t.mint(user("u1").setAudience("voice"));
          t.update(Tenant.newBuilder().addEnabledModules("chat"), "enabled_modules");
          t.redeem(token);
        }),
        row("redeem naming another audience", Code.PERMISSION_DENIED, "AUDIENCE_MISMATCH", t -> {
          String token = t.mint(user("u1").setAudience("chat"));
          t.ta.stub(t.key).redeem(RedeemRequest.newBuilder().setToken(token).setAudience("voice").build());
        }),
        row("TTL above the tenant's maximum", Code.INVALID_ARGUMENT, "INVALID_TTL", t -> {
          t.update(Tenant.newBuilder().setSessionTtlMaxSeconds(600), "session_ttl_max_seconds");
          t.mint(user("u1").setTtlSeconds(601));
        }),
        row("session scope the key lacks", Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", t ->
            t.mint(user("u1").addScopes("billing:write"))),
        row("new key stronger than the caller", Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", t ->
            t.ta.stub(t.key).createApiKey(CreateApiKeyRequest.newBuilder().setName("k").addScopes("admin").build())),
        row("token bound to an origin the key does not allow", Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", t ->
            t.mint(user("u1").setOrigin("https://evil.example"))),
        row("bound token redeemed from another origin", Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", t -> {
          String token = t.mint(user("u1").setOrigin("https://app.acme.example"));
          t.ta.stub(t.key).redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("https://evil.example").build());
        }),
        row("MintSession from a browser origin the key does not allow", Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", t ->
            t.browser("https://evil.example").mintSession(user("u1").build())),
        row("mints past the key's per-minute rate", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", t -> {
          t.update(Tenant.newBuilder().setMintRatePerMinute(2), "mint_rate_per_minute");
          t.mint(user("u1"));
          t.mint(user("u2"));
          t.mint(user("u3"));
        }),
        row("mints past the user's per-hour rate", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", t -> {
          t.update(Tenant.newBuilder().setMintRatePerUserPerHour(2), "mint_rate_per_user_per_hour");
          t.mint(user("u1"));
          t.mint(user("u1"));
          t.mint(user("u2"));
          t.mint(user("u1"));
        }),
        row("redeems past the monthly quota", Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", t -> {
          t.update(Tenant.newBuilder().setMonthlySessionQuota(2), "monthly_session_quota");
          String a = t.mint(user("u1"));
          String b = t.mint(user("u2"));
          String c = t.mint(user("u3"));
          t.redeem(a);
          t.redeem(b);
          t.redeem(c);
        }),
        row("mints once the monthly quota is used up", Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", t -> {
          t.update(Tenant.newBuilder().setMonthlySessionQuota(1), "monthly_session_quota");
          t.redeem(t.mint(user("u1")));
          t.sleepPastCache();
          t.mint(user("u2"));
        }));
  }

  private static Arguments row(String name, Code code, String reason, Consumer<PolicyTest> call) {
    return Arguments.of(new Row(name, code, reason, call));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void refusal(Row row) {
    StatusRuntimeException e = ta.assertFails(row.code(), row.reason(), () -> row.call().accept(this));
    assertThat(e.getStatus().getDescription()).as("a message for people").isNotBlank();
  }

  // What the table cannot show: what still works, and the details of each refusal.

  @Test
  void pastDue_outstandingTokensStillRedeem() {
    String token = mint(user("u1"));
    update(Tenant.newBuilder().setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_PAST_DUE), "subscription_status");
    redeem(token);
  }

  @Test
  void defaultTenantCancelled_theAdminStillListsAndRevokesOtherTenantsKeys() {
    ta.updateTenant(Tenant.newBuilder().setId("default")
        .setSubscriptionStatus(SubscriptionStatus.SUBSCRIPTION_STATUS_CANCELLED).build(), "subscription_status");
    String leaked = ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("acme").build()).getApiKeys(0).getId();

    ta.admin().revoke(dev.tokenauthority.v1.RevokeRequest.newBuilder().setApiKeyId(leaked).build());

    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> mint(user("u1")));
  }

  @Test
  void suspendedTenant_mayStillListAndRevokeItsKeys() {
    update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_SUSPENDED), "status");
    assertThat(ta.stub(key).listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysCount()).isEqualTo(1);
  }

  @Test
  void introspect_ofSuspendedTenantsToken_isInactiveWithTheReason() {
    String token = mint(user("u1"));
    update(Tenant.newBuilder().setStatus(TenantStatus.TENANT_STATUS_SUSPENDED), "status");
    var r = ta.stub(key).introspect(IntrospectRequest.newBuilder().setToken(token).build());
    assertThat(r.getActive()).isFalse();
    assertThat(r.getErrorInfo().getReason()).isEqualTo("TENANT_SUSPENDED");
  }

  @Test
  void enabledModule_mintsAndRedeems() {
    update(Tenant.newBuilder().addEnabledModules("chat"), "enabled_modules");
    redeem(mint(user("u1").setAudience("chat")));
  }

  @Test
  void invalidTtl_messageNamesTheTenantsRange() {
    update(Tenant.newBuilder().setSessionTtlMaxSeconds(600).setSessionTtlDefaultSeconds(120),
        "session_ttl_max_seconds", "session_ttl_default_seconds");
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL", () -> mint(user("u1").setTtlSeconds(601)));
    assertThat(e.getStatus().getDescription()).contains("1 and 600").contains("120");
    assertThat(ta.mint(key, user("u1").build()).getExpiresInSeconds()).isBetween(119L, 120L);
  }

  @Test
  void browserOriginAllowedForTheKey_mints_aTokenBoundToThatOrigin() {
    // Seed 003: a browser channel's token is bound to the calling origin.
    String token = browser("HTTPS://app.acme.example:443").mintSession(user("u1").build()).getToken();

    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED",
        () -> ta.stub(key).redeem(RedeemRequest.newBuilder().setToken(token).build()));
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED",
        () -> ta.stub(key).redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("https://evil.example").build()));
    assertThat(ta.stub(key).redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("https://app.acme.example").build())
        .getExternalUserId()).isEqualTo("u1");
  }

  @Test
  void rateLimit_everyMintCarriesHeaders_andTheRefusalSaysWhenToRetry() {
    update(Tenant.newBuilder().setMintRatePerMinute(3), "mint_rate_per_minute");
    for (int remaining = 2; remaining >= 0; remaining--) {
      Metadata headers = mintHeaders();
      assertThat(headers.get(LIMIT)).isEqualTo("3");
      assertThat(headers.get(REMAINING)).isEqualTo(String.valueOf(remaining));
      // Whole again once every mint so far has drained: 20 s per mint at 3 a minute.
      long whole = ta.clock().instant().getEpochSecond() + 20L * (3 - remaining);
      assertThat(Long.parseLong(headers.get(RESET))).isBetween(whole - 1, whole + 1);
    }
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    StatusRuntimeException e = ta.assertFails(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", () ->
        ta.stub(key).withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
            .mintSession(user("u2").build()));
    RetryInfo retry = InProcessAuthority.detail(e, RetryInfo.class);
    assertThat(Durations.toMillis(retry.getRetryDelay())).isBetween(1L, 20_000L); // one call's spacing: 60 s / 3
    assertThat(InProcessAuthority.detail(e, QuotaFailure.class).getViolationsCount()).isEqualTo(1);
    assertThat(trailers.get().get(REMAINING)).isEqualTo("0");
    assertThat(trailers.get().get(LIMIT)).isEqualTo("3");
    assertThat(Long.parseLong(trailers.get().get(RETRY_AFTER))).isBetween(1L, 20L);
    // The ErrorInfo says what the trailers say.
    assertThat(InProcessAuthority.errorInfo(e).getMetadataMap())
        .containsEntry("subject", "mints")
        .containsEntry("limit", "3")
        .containsEntry("remaining", "0")
        .containsEntry("reset", trailers.get().get(RESET))
        .hasSize(4);
  }

  @Test
  void rateLimit_aMintRefusedBeforeTheLimiter_carriesTheHeadersToo_andTakesNothing() {
    update(Tenant.newBuilder().setMintRatePerMinute(3), "mint_rate_per_minute");
    assertThat(mintHeaders().get(REMAINING)).isEqualTo("2");
    AtomicReference<Metadata> trailers = new AtomicReference<>();

    ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL", () ->
        ta.stub(key).withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
            .mintSession(user("u1").setTtlSeconds(999_999).build()));

    assertThat(trailers.get().get(LIMIT)).isEqualTo("3");
    assertThat(trailers.get().get(REMAINING)).as("as it stands: the refused mint took nothing").isEqualTo("2");
    long whole = ta.clock().instant().getEpochSecond() + 20L;
    assertThat(Long.parseLong(trailers.get().get(RESET))).isBetween(whole - 1, whole + 1);
    assertThat(trailers.get().get(RETRY_AFTER)).as("not refused by the limit").isNull();
    assertThat(mintHeaders().get(REMAINING)).isEqualTo("1");
  }

  @Test
  void rateLimit_withoutAConfiguredLimit_headersSayUnlimited() {
    Metadata headers = mintHeaders();
    assertThat(headers.get(LIMIT)).isEqualTo(String.valueOf(Integer.MAX_VALUE));
    assertThat(headers.get(REMAINING)).isEqualTo(String.valueOf(Integer.MAX_VALUE));
    assertThat(headers.get(RESET)).isNotNull();
  }

  @Test
  void perUserRate_limitsOnlyThatUser() {
    update(Tenant.newBuilder().setMintRatePerUserPerHour(1), "mint_rate_per_user_per_hour");
    mint(user("u1"));
    ta.assertFails(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", () -> mint(user("u1")));
    mint(user("u2"));
  }

  @Test
  void perUserRate_aUserOverTheirLimit_doesNotSpendTheKeysAllowanceOfOtherUsers() {
    update(Tenant.newBuilder().setMintRatePerMinute(3).setMintRatePerUserPerHour(1), "mint_rate_per_minute", "mint_rate_per_user_per_hour");
    mint(user("u1"));
    for (int i = 0; i < 5; i++) {
      ta.assertFails(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", () -> mint(user("u1")));
    }

    // The key's 3 a minute: u1's one mint, then two other users'.
    mint(user("u2"));
    mint(user("u3"));
    ta.assertFails(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", () -> mint(user("u4")));
  }

  @Test
  void rateLimitHeaders_bothLimitsWithAsManyLeft_describeTheOneWholeAgainLater() {
    update(Tenant.newBuilder().setMintRatePerMinute(1).setMintRatePerUserPerHour(1), "mint_rate_per_minute", "mint_rate_per_user_per_hour");

    Metadata headers = mintHeaders();

    assertThat(headers.get(REMAINING)).isEqualTo("0");
    // The user's hour, not the key's minute: the allowance is whole again only then.
    long hour = ta.clock().instant().getEpochSecond() + 3600;
    assertThat(Long.parseLong(headers.get(RESET))).isBetween(hour - 1, hour + 1);
  }

  @Test
  void rateLimit_raised_takesEffectAtOnce() {
    update(Tenant.newBuilder().setMintRatePerMinute(1), "mint_rate_per_minute");
    mint(user("u1"));
    ta.assertFails(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", () -> mint(user("u2")));

    update(Tenant.newBuilder().setMintRatePerMinute(600), "mint_rate_per_minute");

    Metadata headers = mintHeaders();
    assertThat(headers.get(LIMIT)).isEqualTo("600");
    assertThat(headers.get(REMAINING)).isEqualTo("599");
  }

  @Test
  void quotaUsedUp_theRefusedMintCarriesTheQuotaAsItsLimit_andWhenToRetry_asOverHttp() {
    update(Tenant.newBuilder().setMonthlySessionQuota(1), "monthly_session_quota");
    redeem(mint(user("u1")));
    sleepPastCache();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    StatusRuntimeException e = ta.assertFails(Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", () ->
        ta.stub(key).withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
            .mintSession(user("u2").build()));

    java.util.Map<String, String> info = InProcessAuthority.errorInfo(e).getMetadataMap();
    assertThat(trailers.get().get(LIMIT)).isEqualTo("1").isEqualTo(info.get("limit"));
    assertThat(trailers.get().get(REMAINING)).isEqualTo("0");
    assertThat(trailers.get().get(RESET)).isEqualTo(info.get("reset"));
    long untilNextMonth = Long.parseLong(info.get("reset")) - ta.clock().instant().getEpochSecond();
    assertThat(Long.parseLong(trailers.get().get(RETRY_AFTER))).isBetween(untilNextMonth - 1, untilNextMonth + 1);
  }

  @Test
  void quotaUsedUp_theRefusedRedeemCarriesTheLimitTrailersToo_onceEach() {
    update(Tenant.newBuilder().setMonthlySessionQuota(1), "monthly_session_quota");
    String spare = mint(user("u2"));
    redeem(mint(user("u1")));
    sleepPastCache();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    ta.assertFails(Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", () ->
        ta.stub(key).withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
            .redeem(RedeemRequest.newBuilder().setToken(spare).build()));

    assertThat(trailers.get().getAll(LIMIT)).containsExactly("1");
    assertThat(trailers.get().getAll(REMAINING)).containsExactly("0");
    assertThat(trailers.get().getAll(RETRY_AFTER)).singleElement().satisfies(s -> assertThat(Long.parseLong(s)).isPositive());
  }

  @Test
  void rateLimited_theRefusalsTrailersCarryEachHeaderOnce() {
    update(Tenant.newBuilder().setMintRatePerMinute(1), "mint_rate_per_minute");
    mint(user("u1"));
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    ta.assertFails(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", () ->
        ta.stub(key).withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
            .mintSession(user("u2").build()));

    for (Metadata.Key<String> header : java.util.List.of(LIMIT, REMAINING, RESET, RETRY_AFTER)) {
      assertThat(trailers.get().getAll(header)).as(header.name()).hasSize(1);
    }
  }

  @Test
  void quota_unusedTokensCostNothing() {
    update(Tenant.newBuilder().setMonthlySessionQuota(1), "monthly_session_quota");
    for (int i = 0; i < 5; i++) {
      mint(user("u" + i));
    }
    redeem(mint(user("last")));
  }

  @Test
  void newKey_cannotOutliveTheCallingKey() {
    java.time.Instant expiry = ta.clock().instant().plus(Duration.ofDays(7));
    String shortLived = ta.stub(key).createApiKey(CreateApiKeyRequest.newBuilder().setName("short")
        .addScopes("keys:write").addScopes("sessions:mint")
        .setExpireTime(com.google.protobuf.util.Timestamps.fromMillis(expiry.toEpochMilli())).build()).getSecret();
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () ->
        ta.stub(shortLived).createApiKey(CreateApiKeyRequest.newBuilder().setName("longer").addScopes("sessions:mint")
            .setExpireTime(com.google.protobuf.util.Timestamps.fromMillis(expiry.plusSeconds(1).toEpochMilli())).build()));
    assertThat(InProcessAuthority.violationFields(e)).containsExactly("expire_time");
    // Without an expiry of its own, the new key takes the caller's.
    var inherited = ta.stub(shortLived).createApiKey(
        CreateApiKeyRequest.newBuilder().setName("inherits").addScopes("sessions:mint").build()).getApiKey();
    assertThat(com.google.protobuf.util.Timestamps.toMillis(inherited.getExpireTime())).isEqualTo(expiry.toEpochMilli());
  }

  private TokenAuthorityBlockingStub browser(String origin) {
    Metadata headers = new Metadata();
    headers.put(ORIGIN, origin);
    return ta.stub(key).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Mints for a new user and returns the response headers. */
  private Metadata mintHeaders() {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    ta.stub(key).withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
        .mintSession(user("h" + System.nanoTime()).build());
    return headers.get();
  }

  /** Waits out the per-process cache of quota counts (0.5 s). */
  void sleepPastCache() {
    try {
      Thread.sleep(dev.tokenauthority.server.Authority.Settings.CACHE_TTL.toMillis() + 50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
