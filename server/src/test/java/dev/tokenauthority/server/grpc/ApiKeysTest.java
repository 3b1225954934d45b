package dev.tokenauthority.server.grpc;

import static dev.tokenauthority.server.testing.InProcessAuthority.violationFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.v1.ApiKey;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.ListApiKeysResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** CreateApiKey and ListApiKeys: secrets shown once, validation, scope ceilings, tenants and paging. */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class ApiKeysTest {
  @Parameter TestStore store;
  @TempDir Path dataDir;

  private InProcessAuthority ta;

  @BeforeEach
  void setUp() {
    ta = authority().start();
  }

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private static CreateApiKeyRequest.Builder newKey(String... scopes) {
    return CreateApiKeyRequest.newBuilder().setName("backend").addAllScopes(List.of(scopes));
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  /** Every key of a tenant as the given stub lists them, page by page. */
  private static List<ApiKey> listAll(TokenAuthorityBlockingStub stub, String tenant, int pageSize, List<Integer> pageSizes) {
    List<ApiKey> all = new ArrayList<>();
    String token = "";
    do {
      ListApiKeysResponse page =
          stub.listApiKeys(ListApiKeysRequest.newBuilder().setTenantId(tenant).setPageSize(pageSize).setPageToken(token).build());
      pageSizes.add(page.getApiKeysCount());
      all.addAll(page.getApiKeysList());
      token = page.getNextPageToken();
    } while (!token.isEmpty() && pageSizes.size() < 100);
    return all;
  }

  // CreateApiKey

  @Test
  void createApiKey_valid_returnsMetadataAndSecretOnce() {
    Instant now = ta.clock().instant();
    CreateApiKeyResponse r =
        ta.admin().createApiKey(newKey("sessions:mint", "chat:write").addAllowedOrigins("HTTPS://App.Example.com:443").build());

    String secret = r.getSecret();
    assertThat(secret).startsWith("sk_").hasSizeGreaterThanOrEqualTo(3 + 32).matches("sk_[0-9A-Za-z]+");
    ApiKey key = r.getApiKey();
    assertThat(key.getId()).startsWith("key_");
    assertThat(key.getTenantId()).isEqualTo("default");
    assertThat(key.getName()).isEqualTo("backend");
    assertThat(key.getScopesList()).containsExactly("sessions:mint", "chat:write");
    assertThat(key.getAllowedOriginsList()).containsExactly("https://app.example.com");
    assertThat(key.getCreateTime()).isEqualTo(ts(now));
    assertThat(key.hasExpireTime()).isFalse();
    assertThat(key.hasLastUsedTime()).isFalse();
    assertThat(key.getHint()).isEqualTo("sk_..." + secret.substring(secret.length() - 4));
    assertThat(key.toString()).doesNotContain(secret);
  }

  @Test
  void createApiKey_twice_givesDistinctSecrets() {
    assertThat(ta.createKey("sessions:mint")).isNotEqualTo(ta.createKey("sessions:mint"));
  }

  @Test
  void createApiKey_newKey_authenticatesWithItsScopes() {
    String secret = ta.createKey("sessions:mint");
    assertThat(ta.stub(secret).getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isPositive();
    assertThat(ta.mint(secret, "rep_8842").getToken()).isNotEmpty();
  }

  @Test
  void listApiKeys_afterCreate_neverShowsTheSecret() {
    CreateApiKeyResponse r = ta.admin().createApiKey(newKey("sessions:mint").build());
    ListApiKeysResponse list = ta.admin().listApiKeys(ListApiKeysRequest.getDefaultInstance());
    ApiKey listed = list.getApiKeysList().stream().filter(k -> k.getId().equals(r.getApiKey().getId())).findFirst().orElseThrow();
    assertThat(listed).isEqualTo(r.getApiKey());
    assertThat(list.toString()).doesNotContain(r.getSecret()).doesNotContain(ta.adminSecret());
    assertThat(list.toByteString().toStringUtf8()).doesNotContain(r.getSecret());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 101})
  void createApiKey_nameLength_isInvalidRequestOnName(int length) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.admin().createApiKey(newKey("sessions:mint").setName("n".repeat(length)).build()));
    assertThat(violationFields(e)).containsExactly("name");
  }

  @Test
  void createApiKey_blankName_isOneViolationOnName() {
    for (String name : List.of(" ", "   \t", " ".repeat(101))) {
      StatusRuntimeException e =
          ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().createApiKey(newKey("sessions:mint").setName(name).build()));
      assertThat(violationFields(e)).as("name of %s characters", name.length()).containsExactly("name");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"\u200b", "\u00a0\u00a0", "\u3000", "\u200e\u2060"})
  void createApiKey_nameOfInvisibleCharactersOnly_isBlank(String name) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().createApiKey(newKey("sessions:mint").setName(name).build()));
    assertThat(InProcessAuthority.badRequest(e).getFieldViolationsList())
        .singleElement().satisfies(v -> assertThat(v.getField() + ": " + v.getDescription()).isEqualTo("name: must not be blank"));
  }

  @Test
  void createApiKey_nameWithABidirectionalOverride_isRefused_soThatItCannotReadAsAnotherName() {
    // Displays as "prodexe.png".
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> ta.admin().createApiKey(newKey("sessions:mint").setName("prod\u202egnp.exe").build()));
    assertThat(violationFields(e)).containsExactly("name");
    // Visible text with a joiner or a direction mark inside is a name.
    assertThat(ta.admin().createApiKey(newKey("sessions:mint").setName("ops \uD83D\uDC69\u200D\uD83D\uDCBB \u200fkey").build())
        .getApiKey().getName()).startsWith("ops");
  }

  @Test
  void createApiKey_name100_isAccepted() {
    assertThat(ta.admin().createApiKey(newKey("sessions:mint").setName("n".repeat(100)).build()).getApiKey().getName()).hasSize(100);
  }

  @Test
  void createApiKey_expireTimeInPastOrNow_isInvalidRequestOnExpireTime() {
    Instant now = ta.clock().instant();
    for (Instant t : List.of(now.minusSeconds(1), now, Instant.EPOCH)) {
      StatusRuntimeException e =
          ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
              () -> ta.admin().createApiKey(newKey("sessions:mint").setExpireTime(ts(t)).build()));
      assertThat(violationFields(e)).containsExactly("expire_time");
    }
  }

  @Test
  void createApiKey_expireTimeOutsideTimestampRange_isInvalidRequestOnExpireTime() {
    // google.protobuf.Timestamp is valid from 0001-01-01 to 9999-12-31, nanos 0..999999999.
    List<Timestamp> invalid =
        List.of(
            Timestamp.newBuilder().setSeconds(Long.MAX_VALUE).build(),
            Timestamp.newBuilder().setSeconds(253402300800L).build(),
            Timestamp.newBuilder().setSeconds(4102444800L).setNanos(-1).build(),
            Timestamp.newBuilder().setSeconds(4102444800L).setNanos(1_000_000_000).build());
    for (Timestamp t : invalid) {
      StatusRuntimeException e =
          ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
              () -> ta.admin().createApiKey(newKey("sessions:mint").setExpireTime(t).build()));
      assertThat(violationFields(e)).as("expire_time %s", t).containsExactly("expire_time");
    }
  }

  @Test
  void createApiKey_expireTimeInYear9999_isKept() {
    Timestamp last = Timestamp.newBuilder().setSeconds(253402300799L).setNanos(999_000_000).build();
    assertThat(ta.admin().createApiKey(newKey("sessions:mint").setExpireTime(last).build()).getApiKey().getExpireTime()).isEqualTo(last);
  }

  @Test
  void createApiKey_expireTimeInFuture_isKept() {
    Instant later = ta.clock().instant().plus(Duration.ofDays(30));
    ApiKey key = ta.admin().createApiKey(newKey("sessions:mint").setExpireTime(ts(later)).build()).getApiKey();
    assertThat(key.getExpireTime()).isEqualTo(ts(later));
  }

  @Test
  void createApiKey_expireTimeFinerThanAMillisecond_isAnsweredAsStored() {
    Instant later = ta.clock().instant().plus(Duration.ofDays(30)).plusNanos(123_456_789);
    ApiKey created = ta.admin().createApiKey(newKey("sessions:mint").setExpireTime(ts(later)).build()).getApiKey();

    assertThat(created.getExpireTime().getNanos()).isEqualTo(123_000_000);
    assertThat(find(created.getId()).getExpireTime()).isEqualTo(created.getExpireTime());
  }

  @Test
  void createApiKey_adminScopeInAnotherTenant_isInvalidRequestOnScopes() {
    // It would list and revoke every tenant's keys while looking like one of "other"'s.
    ta.createTenant("other");
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> ta.admin().createApiKey(newKey("admin").setTenantId("other").build()));

    assertThat(violationFields(e)).containsExactly("scopes");
    assertThat(ta.admin().createApiKey(newKey("admin").build()).getApiKey().getTenantId()).isEqualTo("default");
  }

  @Test
  void createApiKey_noScopes_isInvalidRequestOnScopes() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().createApiKey(newKey().build()));
    assertThat(violationFields(e)).containsExactly("scopes");
  }

  @Test
  void createApiKey_badOrigin_isInvalidRequestOnThatOrigin() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.admin().createApiKey(newKey("sessions:mint").addAllowedOrigins("https://ok.example").addAllowedOrigins("javascript:alert(1)").build()));
    assertThat(violationFields(e)).containsExactly("allowed_origins[1]");
  }

  @Test
  void createApiKey_severalBadFields_isOneViolationPerField() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.admin().createApiKey(CreateApiKeyRequest.newBuilder()
                .setName("")
                .setExpireTime(ts(Instant.EPOCH))
                .build()));
    assertThat(violationFields(e)).containsExactlyInAnyOrder("name", "scopes", "expire_time");
  }

  @Test
  void createApiKey_keysWriteKeyAskingForAdmin_isScopeNotGranted() {
    String writer = ta.createKey("keys:write");
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.stub(writer).createApiKey(newKey("admin").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.stub(writer).createApiKey(newKey("sessions:mint").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.stub(writer).createApiKey(newKey("keys:write", "keys:read").build()));
    // A key can hand on what it holds.
    assertThat(ta.stub(writer).createApiKey(newKey("keys:write").build()).getApiKey().getScopesList()).containsExactly("keys:write");
  }

  @Test
  void createApiKey_originsBeyondTheCallingKeys_isOriginNotAllowed_aSubsetIsAccepted() {
    // allowed_origins let a key's tokens be bound to, and browsers at, those origins: a key that
    // could give any origin would make a key stronger than itself.
    String writer = ta.createKey(CreateApiKeyRequest.newBuilder().setName("writer")
        .addScopes("keys:write").addScopes("sessions:mint")
        .addAllowedOrigins("https://app.example.com").addAllowedOrigins("https://admin.example.com").build()).getSecret();
    StatusRuntimeException e = ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED",
        () -> ta.stub(writer).createApiKey(newKey("sessions:mint").addAllowedOrigins("https://evil.example").build()));
    assertThat(e.getStatus().getDescription()).contains("https://evil.example");

    ApiKey child = ta.stub(writer).createApiKey(newKey("sessions:mint")
        .addAllowedOrigins("HTTPS://APP.example.com:443").build()).getApiKey(); // the same origin, written otherwise
    assertThat(child.getAllowedOriginsList()).containsExactly("https://app.example.com");
    assertThat(ta.stub(writer).createApiKey(newKey("sessions:mint").build()).getApiKey().getAllowedOriginsList()).isEmpty();
    // The admin key gives any origin.
    assertThat(ta.admin().createApiKey(newKey("sessions:mint").addAllowedOrigins("https://evil.example").build())
        .getApiKey().getAllowedOriginsList()).containsExactly("https://evil.example");
  }

  @Test
  void createApiKey_activeOrEmptyTenant_isCallersOwnTenant() {
    ta.createTenant("other");
    String writer = ta.createKeyIn("other", "keys:write", "sessions:mint");
    for (String ref : List.of("", "active", "other")) {
      ApiKey key = ta.stub(writer).createApiKey(newKey("sessions:mint").setTenantId(ref).build()).getApiKey();
      assertThat(key.getTenantId()).as("tenant_id %s", ref).isEqualTo("other");
    }
  }

  @Test
  void createApiKey_nonAdminNamingAnotherTenant_isNotFound() {
    ta.createTenant("other");
    String writer = ta.createKeyIn("other", "keys:write", "sessions:mint");
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(writer).createApiKey(newKey("sessions:mint").setTenantId("default").build()));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(writer).createApiKey(newKey("sessions:mint").setTenantId("nonexistent").build()));
  }

  @Test
  void createApiKey_adminNamingUnknownTenant_isNotFound() {
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.admin().createApiKey(newKey("sessions:mint").setTenantId("nonexistent").build()));
  }

  @Test
  void createApiKey_adminNamingAnotherTenant_createsThere() {
    ta.createTenant("other");
    assertThat(ta.admin().createApiKey(newKey("sessions:mint").setTenantId("other").build()).getApiKey().getTenantId()).isEqualTo("other");
  }

  @Test
  void listApiKeys_afterKeyIsUsed_showsLastUsedTime() {
    CreateApiKeyResponse r = ta.admin().createApiKey(newKey("sessions:mint").build());
    assertThat(find(r.getApiKey().getId()).hasLastUsedTime()).isFalse();

    // Written without making the call wait, so it shows within a commit or two, not at once.
    Instant firstUse = ta.clock().advanceSeconds(10);
    ta.stub(r.getSecret()).getJwks(GetJwksRequest.getDefaultInstance());
    awaitLastUsedTime(r.getApiKey().getId(), ts(firstUse));

    // Recorded at most once a minute.
    ta.clock().advanceSeconds(30);
    ta.stub(r.getSecret()).getJwks(GetJwksRequest.getDefaultInstance());
    Instant later = ta.clock().advanceSeconds(31);
    ta.stub(r.getSecret()).getJwks(GetJwksRequest.getDefaultInstance());
    awaitLastUsedTime(r.getApiKey().getId(), ts(later));
  }

  /** Polls (bounded) until the key's last_used_time is exactly {@code expected}. */
  private void awaitLastUsedTime(String keyId, com.google.protobuf.Timestamp expected) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (!find(keyId).getLastUsedTime().equals(expected) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(find(keyId).getLastUsedTime()).isEqualTo(expected);
  }

  private ApiKey find(String id) {
    return listAll(ta.admin(), "", 1000, new ArrayList<>()).stream().filter(k -> k.getId().equals(id)).findFirst().orElseThrow();
  }

  // ListApiKeys

  @Test
  void listApiKeys_pageSize2Over5Keys_walksAllOnceInCreationOrder() {
    ta.createTenant("other");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ta.clock().advance(Duration.ofMillis(1));
      created.add(ta.admin().createApiKey(newKey("sessions:mint").setTenantId("other").build()).getApiKey().getId());
    }
    List<Integer> pageSizes = new ArrayList<>();
    List<ApiKey> listed = listAll(ta.admin(), "other", 2, pageSizes);
    assertThat(listed).extracting(ApiKey::getId).containsExactlyElementsOf(created);
    assertThat(pageSizes).containsExactly(2, 2, 1);
  }

  @Test
  void listApiKeys_pageTokenOfAnotherTenantsListing_isInvalidRequest_notAnEmptyPage() {
    ta.createTenant("acme");
    ta.createTenant("beta");
    for (int i = 0; i < 3; i++) {
      ta.admin().createApiKey(newKey("sessions:mint").setTenantId("acme").build());
      ta.admin().createApiKey(newKey("sessions:mint").setTenantId("beta").build());
    }
    String acmeNext = ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("acme").setPageSize(1).build()).getNextPageToken();

    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("beta").setPageToken(acmeNext).build()));

    assertThat(violationFields(e)).containsExactly("page_token");
    assertThat(ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("acme").setPageToken(acmeNext).build())
        .getApiKeysCount()).isEqualTo(2);
  }

  @Test
  void listApiKeys_keysCreatedInSameMillisecond_pagesWithoutDuplicates() {
    ta.createTenant("other");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      created.add(ta.admin().createApiKey(newKey("sessions:mint").setTenantId("other").build()).getApiKey().getId());
    }
    List<ApiKey> listed = listAll(ta.admin(), "other", 2, new ArrayList<>());
    assertThat(listed).extracting(ApiKey::getId).containsExactlyInAnyOrderElementsOf(created).doesNotHaveDuplicates();
  }

  @Test
  void listApiKeys_subMillisecondCreateTimes_pagesWithoutDuplicates() {
    // A real clock has micro- or nanosecond precision; page tokens must not lose it.
    ta.createTenant("other");
    ta.clock().set(Instant.parse("2030-01-01T00:00:00.000100Z"));
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ta.clock().advance(Duration.ofNanos(1_000));
      created.add(ta.admin().createApiKey(newKey("sessions:mint").setTenantId("other").build()).getApiKey().getId());
    }
    ta.clock().advance(Duration.ofMillis(3));
    created.add(ta.admin().createApiKey(newKey("sessions:mint").setTenantId("other").build()).getApiKey().getId());
    List<ApiKey> listed = listAll(ta.admin(), "other", 2, new ArrayList<>());
    assertThat(listed).extracting(ApiKey::getId).containsExactlyInAnyOrderElementsOf(created).doesNotHaveDuplicates();
  }

  @Test
  void listApiKeys_createTime_isTheSameAsCreateApiKeyReturned() {
    ta.clock().set(Instant.parse("2030-01-01T00:00:00.123456789Z"));
    ApiKey created = ta.admin().createApiKey(newKey("sessions:mint").build()).getApiKey();
    assertThat(find(created.getId()).getCreateTime()).isEqualTo(created.getCreateTime());
  }

  @Test
  void listApiKeys_defaultPageSize_is50() {
    for (int i = 0; i < 55; i++) {
      ta.createKey("sessions:mint");
    }
    ListApiKeysResponse first = ta.admin().listApiKeys(ListApiKeysRequest.getDefaultInstance());
    assertThat(first.getApiKeysCount()).isEqualTo(50);
    assertThat(first.getNextPageToken()).isNotEmpty();
    ListApiKeysResponse second = ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setPageToken(first.getNextPageToken()).build());
    assertThat(second.getApiKeysCount()).isEqualTo(55 + 1 - 50);
    assertThat(second.getNextPageToken()).isEmpty();
  }

  @Test
  void listApiKeys_pageSize1000_isAccepted() {
    assertThat(ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setPageSize(1000).build()).getApiKeysCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {1001, Integer.MAX_VALUE})
  void listApiKeys_pageSizeAboveTheMaximum_isTheMaximum(int size) {
    // AIP-158: coerced, not refused. 1,001 keys, so a larger page would show.
    for (int i = 0; i < 1000; i++) {
      ta.createKey("sessions:mint");
    }
    ListApiKeysResponse page = ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setPageSize(size).build());
    assertThat(page.getApiKeysCount()).isEqualTo(1000);
    assertThat(page.getNextPageToken()).isNotEmpty();
    assertThat(ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setPageSize(size).setPageToken(page.getNextPageToken()).build())
        .getApiKeysCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, Integer.MIN_VALUE})
  void listApiKeys_negativePageSize_isInvalidRequestOnPageSize(int size) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setPageSize(size).build()));
    assertThat(violationFields(e)).containsExactly("page_size");
  }

  @ParameterizedTest
  @ValueSource(strings = {"garbage!", "%%%", "bm90LWEtY3Vyc29y", "OmtleV94", "eDprZXlfeA", "MTIz"})
  void listApiKeys_badPageToken_isInvalidRequestOnPageToken(String token) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setPageToken(token).build()));
    assertThat(violationFields(e)).containsExactly("page_token");
  }

  @Test
  void listApiKeys_revokedKey_isNotListed() {
    CreateApiKeyResponse r = ta.admin().createApiKey(newKey("sessions:mint").build());
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(r.getApiKey().getId()).build());
    assertThat(listAll(ta.admin(), "", 1000, new ArrayList<>())).extracting(ApiKey::getId).doesNotContain(r.getApiKey().getId());
  }

  @Test
  void listApiKeys_anotherTenantsKeys_areNeverListed() {
    ta.createTenant("other");
    String otherReader = ta.createKeyIn("other", "keys:read");
    String defaultReader = ta.createKey("keys:read");

    List<ApiKey> otherKeys = listAll(ta.stub(otherReader), "", 1000, new ArrayList<>());
    assertThat(otherKeys).isNotEmpty().allSatisfy(k -> assertThat(k.getTenantId()).isEqualTo("other"));
    List<ApiKey> defaultKeys = listAll(ta.stub(defaultReader), "active", 1000, new ArrayList<>());
    assertThat(defaultKeys).isNotEmpty().allSatisfy(k -> assertThat(k.getTenantId()).isEqualTo("default"));

    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND",
        () -> ta.stub(otherReader).listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("default").build()));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND",
        () -> ta.stub(defaultReader).listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("other").build()));
  }

  @Test
  void listApiKeys_adminNamingTenant_listsThatTenant() {
    ta.createTenant("other");
    ta.createKeyIn("other", "keys:read");
    assertThat(listAll(ta.admin(), "other", 10, new ArrayList<>())).hasSize(1).allSatisfy(k -> assertThat(k.getTenantId()).isEqualTo("other"));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.admin().listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("nonexistent").build()));
  }
}
