package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.server.testing.TokenParts;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A key of tenant A tries every RPC on tenant B's keys, sessions and tokens: each gets exactly
 * what it would get for something that does not exist, and B's things keep working.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class TenantIsolationTest {
  @Parameter TestStore store;
  @TempDir Path dataDir;

  private static final String[] ALL_BUT_ADMIN = {"sessions:mint", "sessions:redeem", "keys:read", "keys:write"};

  InProcessAuthority ta;
  private TokenAuthorityBlockingStub a;
  private String bSecret;
  private String bKeyId;
  private MintSessionResponse bSession;

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @BeforeEach
  void setUp() {
    ta = authority().start();
    ta.createTenant("tenant-a");
    ta.createTenant("tenant-b");
    a = ta.stub(ta.createKeyIn("tenant-a", ALL_BUT_ADMIN));
    var b = ta.createKey(CreateApiKeyRequest.newBuilder().setTenantId("tenant-b").setName("b").addAllScopes(java.util.List.of(ALL_BUT_ADMIN)).build());
    bSecret = b.getSecret();
    bKeyId = b.getApiKey().getId();
    bSession = ta.mint(bSecret, "b-user");
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  @Test
  void redeem_otherTenantsToken_isTokenInvalidLikeAForgery() {
    StatusRuntimeException theirs = ta.assertFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", () ->
        a.redeem(RedeemRequest.newBuilder().setToken(bSession.getToken()).build()));
    StatusRuntimeException forged = ta.assertFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", () ->
        a.redeem(RedeemRequest.newBuilder().setToken(forgedLike(bSession.getToken())).build()));
    assertThat(theirs.getStatus().getDescription()).isEqualTo(forged.getStatus().getDescription());
  }

  /** The same token with its subject changed and the signature kept: a forgery. */
  private static String forgedLike(String token) {
    TokenParts p = TokenParts.of(token);
    return TokenParts.compact(p.headerJson(), p.payloadJson().replace("b-user", "b-admin"), p.signature());
  }

  @Test
  void introspect_otherTenantsToken_isInactiveTokenInvalid() {
    var r = a.introspect(IntrospectRequest.newBuilder().setToken(bSession.getToken()).build());
    assertThat(r.getActive()).isFalse();
    assertThat(r.getErrorInfo().getReason()).isEqualTo("TOKEN_INVALID");
    assertThat(r.getSessionId()).isEmpty();
  }

  @Test
  void createAndListKeys_inOtherTenant_isNotFoundLikeAnUnknownTenant() {
    StatusRuntimeException theirs = ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () ->
        a.createApiKey(CreateApiKeyRequest.newBuilder().setTenantId("tenant-b").setName("x").addScopes("sessions:mint").build()));
    StatusRuntimeException unknown = ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () ->
        a.createApiKey(CreateApiKeyRequest.newBuilder().setTenantId("no-such").setName("x").addScopes("sessions:mint").build()));
    assertThat(theirs.getStatus().getDescription()).isEqualTo(unknown.getStatus().getDescription());
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> a.listApiKeys(ListApiKeysRequest.newBuilder().setTenantId("tenant-b").build()));
  }

  @Test
  void listKeys_ownTenant_neverShowsAnotherTenantsKey() {
    assertThat(a.listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysList())
        .extracting(k -> k.getTenantId()).containsOnly("tenant-a");
  }

  @Test
  void revoke_otherTenantsKeySessionOrToken_isNotFound_andChangesNothing() {
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> a.revoke(RevokeRequest.newBuilder().setApiKeyId(bKeyId).build()));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> a.revoke(RevokeRequest.newBuilder().setSessionId(bSession.getSessionId()).build()));
    ta.assertFails(Code.NOT_FOUND, "NOT_FOUND", () -> a.revoke(RevokeRequest.newBuilder().setToken(bSession.getToken()).build()));

    // B's key and token still work.
    assertThat(ta.stub(bSecret).redeem(RedeemRequest.newBuilder().setToken(bSession.getToken()).build()).getTenantId())
        .isEqualTo("tenant-b");
  }

  @Test
  void mint_alwaysInTheCallersOwnTenant() {
    String token = a.mintSession(dev.tokenauthority.v1.MintSessionRequest.newBuilder().setExternalUserId("u").build()).getToken();
    assertThat(TokenParts.of(token).payload().getFieldsOrThrow("tid").getStringValue()).isEqualTo("tenant-a");
    ta.assertFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", () -> ta.stub(bSecret).redeem(RedeemRequest.newBuilder().setToken(token).build()));
  }

  @Test
  void suspendingOneTenant_leavesTheOtherAlone() {
    ta.updateTenant(dev.tokenauthority.v1.Tenant.newBuilder().setId("tenant-a")
        .setStatus(dev.tokenauthority.v1.TenantStatus.TENANT_STATUS_SUSPENDED).build(), "status");
    ta.assertFails(Code.PERMISSION_DENIED, "TENANT_SUSPENDED", () ->
        a.mintSession(dev.tokenauthority.v1.MintSessionRequest.newBuilder().setExternalUserId("u").build()));
    assertThat(ta.mint(bSecret, "b-user-2").getToken()).isNotEmpty();
  }
}
