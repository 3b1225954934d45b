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
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RevokeResponse;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Revoke: API keys, sessions by id and by token, scopes per target, tenant isolation and idempotence. */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class RevokeTest {
  @Parameter TestStore store;
  @TempDir Path dataDir;

  private InProcessAuthority ta;
  private String minter;
  private String redeemer;
  private String keyWriter;

  @BeforeEach
  void setUp() {
    ta = authority().start();
    minter = ta.createKey("sessions:mint");
    redeemer = ta.createKey("sessions:redeem");
    keyWriter = ta.createKey("keys:write", "sessions:mint");
  }

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private CreateApiKeyResponse newKey(String... scopes) {
    return ta.createKey(CreateApiKeyRequest.newBuilder().setName("victim").addAllScopes(java.util.List.of(scopes)).build());
  }

  private RevokeResponse revokeKey(String callerSecret, String keyId) {
    return ta.stub(callerSecret).revoke(RevokeRequest.newBuilder().setApiKeyId(keyId).build());
  }

  private void assertRedeemable(String token) {
    assertThat(ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(token).build()).getSessionId()).isNotEmpty();
  }

  // API keys

  @Test
  void revoke_adminKeyByNonAdminKeysWriteKey_isScopeNotGranted_andAdminKeepsWorking() {
    String keysWriter = ta.createKey("keys:write", "keys:read");
    String adminId =
        ta.admin().listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysList().stream()
            .filter(k -> k.getScopesList().contains("admin"))
            .findFirst()
            .orElseThrow()
            .getId();

    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(keysWriter).revoke(RevokeRequest.newBuilder().setApiKeyId(adminId).build()));

    assertThat(ta.admin().getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isPositive();
  }

  @Test
  void revoke_apiKeyWithKeysWrite_isRevokedAtOnce() {
    CreateApiKeyResponse victim = newKey("sessions:redeem");
    // Authenticate once so the key sits in the authentication cache.
    ta.stub(victim.getSecret()).getJwks(GetJwksRequest.getDefaultInstance());
    Instant now = ta.clock().advanceSeconds(5);

    RevokeResponse r = revokeKey(keyWriter, victim.getApiKey().getId());

    assertThat(r.getRevokeTime().getSeconds()).isEqualTo(now.getEpochSecond());
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> ta.stub(victim.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()));
    assertThat(ta.admin().listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysList())
        .extracting(ApiKey::getId)
        .doesNotContain(victim.getApiKey().getId());
  }

  @Test
  void revoke_ownKey_failsTheVeryNextCall() {
    CreateApiKeyResponse self = newKey("keys:write");
    RevokeResponse r = revokeKey(self.getSecret(), self.getApiKey().getId());
    assertThat(r.hasRevokeTime()).isTrue();
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REVOKED",
        () -> revokeKey(self.getSecret(), self.getApiKey().getId()));
  }

  @Test
  void revoke_apiKeyTwice_returnsTheFirstRevokeTime() {
    CreateApiKeyResponse victim = newKey("sessions:mint");
    Instant first = ta.clock().advanceSeconds(1);
    RevokeResponse r1 = revokeKey(keyWriter, victim.getApiKey().getId());
    ta.clock().advanceSeconds(60);
    RevokeResponse r2 = revokeKey(keyWriter, victim.getApiKey().getId());
    assertThat(r1.getRevokeTime()).isEqualTo(ts(first));
    assertThat(r2.getRevokeTime()).isEqualTo(r1.getRevokeTime());
  }

  @Test
  void revoke_apiKeyWithoutKeysWrite_isScopeNotGranted() {
    CreateApiKeyResponse victim = newKey("sessions:redeem");
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> revokeKey(minter, victim.getApiKey().getId()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> revokeKey(redeemer, victim.getApiKey().getId()));
    String reader = ta.createKey("keys:read");
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> revokeKey(reader, victim.getApiKey().getId()));
    assertThat(ta.stub(victim.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isPositive();
  }

  @Test
  void revoke_unknownApiKey_isNotFound() {
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> revokeKey(keyWriter, "key_doesnotexist0000000000"));
  }

  @Test
  void revoke_anotherTenantsApiKey_isNotFoundAndKeyKeepsWorking() {
    ta.createTenant("other");
    CreateApiKeyResponse theirs =
        ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("other").setName("theirs").addScopes("sessions:redeem").build());
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> revokeKey(keyWriter, theirs.getApiKey().getId()));
    assertThat(ta.stub(theirs.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isPositive();

    // And the other way round.
    String theirWriter = ta.createKeyIn("other", "keys:write");
    CreateApiKeyResponse ours = newKey("sessions:redeem");
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> revokeKey(theirWriter, ours.getApiKey().getId()));
  }

  @Test
  void revoke_anotherTenantsRevokedApiKey_isStillNotFound() {
    ta.createTenant("other");
    CreateApiKeyResponse theirs =
        ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("other").setName("theirs").addScopes("sessions:redeem").build());
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(theirs.getApiKey().getId()).build());
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> revokeKey(keyWriter, theirs.getApiKey().getId()));
  }

  @Test
  void revoke_adminRevokingAnotherTenantsKey_isRevoked() {
    ta.createTenant("other");
    CreateApiKeyResponse theirs =
        ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("other").setName("theirs").addScopes("sessions:redeem").build());
    assertThat(ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(theirs.getApiKey().getId()).build()).hasRevokeTime()).isTrue();
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> ta.stub(theirs.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  // Sessions

  @Test
  void revoke_sessionIdWithSessionsMint_revokesTheSession() {
    MintSessionResponse minted = ta.mint(minter, "u");
    Instant now = ta.clock().advanceSeconds(2);
    RevokeResponse r = ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build());
    assertThat(r.getRevokeTime()).isEqualTo(ts(now));
    ta.assertFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED",
        () -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(minted.getToken()).build()));
  }

  @Test
  void revoke_tokenWithSessionsMint_revokesTheSession() {
    MintSessionResponse minted = ta.mint(minter, "u");
    assertThat(ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken(minted.getToken()).build()).hasRevokeTime()).isTrue();
    ta.assertFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED",
        () -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(minted.getToken()).build()));
  }

  @Test
  void revoke_sessionByAnotherKeyOfSameTenant_isRevoked() {
    MintSessionResponse minted = ta.mint(minter, "u");
    String otherMinter = ta.createKey("sessions:mint");
    assertThat(ta.stub(otherMinter).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build()).hasRevokeTime()).isTrue();
  }

  @Test
  void revoke_sessionTwice_returnsTheFirstRevokeTime() {
    MintSessionResponse minted = ta.mint(minter, "u");
    RevokeResponse r1 = ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build());
    ta.clock().advanceSeconds(30);
    RevokeResponse r2 = ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken(minted.getToken()).build());
    assertThat(r2.getRevokeTime()).isEqualTo(r1.getRevokeTime());
  }

  @Test
  void revoke_sessionWithoutSessionsMint_isScopeNotGranted() {
    MintSessionResponse minted = ta.mint(minter, "u");
    String writerOnly = ta.createKey("keys:write");
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(writerOnly).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(redeemer).revoke(RevokeRequest.newBuilder().setToken(minted.getToken()).build()));
    assertRedeemable(minted.getToken());
  }

  @Test
  void revoke_unknownSessionOrToken_isNotFound() {
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId("ses_doesnotexist000000000").build()));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken("garbage.token.here").build()));
    // Longer than any token the authority hands out: not one of its tokens either, as Redeem
    // says of it (TOKEN_INVALID), rather than a malformed request.
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken("x".repeat(5000)).build()));
  }

  @Test
  void revoke_anotherTenantsSession_isNotFoundAndSessionKeepsWorking() {
    ta.createTenant("other");
    String theirMinter = ta.createKeyIn("other", "sessions:mint");
    String theirRedeemer = ta.createKeyIn("other", "sessions:redeem");
    MintSessionResponse theirs = ta.mint(theirMinter, "u");
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(theirs.getSessionId()).build()));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken(theirs.getToken()).build()));
    assertThat(ta.stub(theirRedeemer).redeem(RedeemRequest.newBuilder().setToken(theirs.getToken()).build()).getTenantId()).isEqualTo("other");
  }

  // Bad requests

  @Test
  void revoke_noTarget_isInvalidRequest() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().revoke(RevokeRequest.getDefaultInstance()));
    assertThat(violationFields(e)).containsExactly("target");
  }

  @Test
  void revoke_emptyTargetValue_isInvalidRequestOnThatField() {
    StatusRuntimeException e1 =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId("").build()));
    assertThat(violationFields(e1)).containsExactly("api_key_id");
    StatusRuntimeException e2 =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().revoke(RevokeRequest.newBuilder().setSessionId("").build()));
    assertThat(violationFields(e2)).containsExactly("session_id");
    StatusRuntimeException e3 =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.admin().revoke(RevokeRequest.newBuilder().setToken("").build()));
    assertThat(violationFields(e3)).containsExactly("token");
  }

  @Test
  void revoke_overlongIdTarget_isInvalidRequest() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.admin().revoke(RevokeRequest.newBuilder().setSessionId("x".repeat(100 * 1024)).build()));
    assertThat(violationFields(e)).containsExactly("session_id");
  }
}
