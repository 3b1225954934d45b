package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.IntrospectResponse;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Introspect: active tokens with their fields, inactive ones with a reason and never an error, and no use consumed. */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class IntrospectTest {
  @Parameter TestStore store;
  @TempDir Path dataDir;

  private InProcessAuthority ta;
  private CreateApiKeyResponse minterKey;
  private String minter;
  private String redeemer;

  @BeforeEach
  void setUp() {
    ta = authority().start();
    minterKey =
        ta.createKey(CreateApiKeyRequest.newBuilder()
            .setName("backend")
            .addScopes("sessions:mint")
            .addScopes("chat:write")
            .addAllowedOrigins("https://app.example.com")
            .build());
    minter = minterKey.getSecret();
    redeemer = ta.createKey("sessions:redeem");
  }

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private IntrospectResponse introspect(String token) {
    return ta.stub(redeemer).introspect(IntrospectRequest.newBuilder().setToken(token).build());
  }

  private void assertInactive(IntrospectResponse r, String reason) {
    assertThat(r.getActive()).isFalse();
    assertThat(r.getReason()).isEqualTo(reason);
    assertThat(r.getErrorInfo().getReason()).isEqualTo(reason);
    assertThat(r.getErrorInfo().getDomain()).isEqualTo("tokenauthority");
    // Nothing about a bad token is disclosed beyond why it is bad.
    assertThat(r)
        .isEqualTo(
            IntrospectResponse.newBuilder()
                .setReason(reason)
                .setErrorInfo(com.google.rpc.ErrorInfo.newBuilder().setReason(reason).setDomain("tokenauthority"))
                .build());
  }

  @Test
  void introspect_activeToken_isActiveWithEveryField() {
    Instant now = ta.clock().instant();
    MintSessionResponse minted =
        ta.mint(minter, MintSessionRequest.newBuilder()
            .setExternalUserId("rep_8842")
            .setExternalGroupId("agency_12")
            .setAudience("chatbot")
            .setMaxUses(2)
            .addScopes("chat:write")
            .setOrigin("https://app.example.com")
            .setContext(Struct.newBuilder().putFields("k", Value.newBuilder().setStringValue("v").build()))
            .build());

    IntrospectResponse r = introspect(minted.getToken());

    assertThat(r.getActive()).isTrue();
    assertThat(r.getReason()).isEmpty();
    assertThat(r.getSessionId()).isEqualTo(minted.getSessionId());
    assertThat(r.getTenantId()).isEqualTo("default");
    assertThat(r.getApiKeyId()).isEqualTo(minterKey.getApiKey().getId());
    assertThat(r.getExternalUserId()).isEqualTo("rep_8842");
    assertThat(r.getExternalGroupId()).isEqualTo("agency_12");
    assertThat(r.getAudience()).isEqualTo("chatbot");
    assertThat(r.getScopesList()).containsExactly("chat:write");
    assertThat(r.getOrigin()).isEqualTo("https://app.example.com");
    assertThat(r.getIssueTime().getSeconds()).isEqualTo(now.getEpochSecond());
    assertThat(r.getExpireTime()).isEqualTo(minted.getExpireTime());
    assertThat(r.getUsesRemaining()).isEqualTo(2);
  }

  @Test
  void introspect_activeToken_doesNotConsumeAUse() {
    String token = ta.mint(minter, "rep_8842").getToken();
    for (int i = 0; i < 3; i++) {
      assertThat(introspect(token).getUsesRemaining()).isEqualTo(1);
    }
    assertThat(ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(token).build()).getUsesRemaining()).isZero();
  }

  @Test
  void introspect_afterOneOfThreeUses_showsUsesRemaining() {
    String token = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setMaxUses(3).build()).getToken();
    ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(token).build());
    assertThat(introspect(token).getUsesRemaining()).isEqualTo(2);
  }

  @Test
  void introspect_usedToken_isInactiveAlreadyUsed() {
    String token = ta.mint(minter, "u").getToken();
    ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(token).build());
    assertInactive(introspect(token), "TOKEN_ALREADY_USED");
  }

  @Test
  void introspect_expiredToken_isInactiveExpired() {
    String token = ta.mint(minter, "u").getToken();
    ta.clock().advanceSeconds(299);
    assertThat(introspect(token).getActive()).isTrue();
    ta.clock().advanceSeconds(1);
    assertInactive(introspect(token), "TOKEN_EXPIRED");
  }

  @Test
  void introspect_expiredAndPurgedToken_isInactiveExpired() {
    String token = ta.mint(minter, "u").getToken();
    ta.clock().advanceSeconds(3600);
    ta.authority().sessions().purgeExpired();
    assertInactive(introspect(token), "TOKEN_EXPIRED");
  }

  @Test
  void introspect_revokedSession_isInactiveRevoked() {
    MintSessionResponse minted = ta.mint(minter, "u");
    ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build());
    assertInactive(introspect(minted.getToken()), "TOKEN_REVOKED");
  }

  @Test
  void aTokenThatFailsSeveralChecks_getsTheSameReasonFromIntrospectAsFromRedeem() {
    // Used up, then its minting key revoked: used up, whichever asks.
    String used = ta.mint(minter, "u1").getToken();
    ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(used).build());
    // Expired, then its audience no longer an enabled module: expired, whichever asks.
    String expired = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u2").setAudience("chat").build()).getToken();
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(minterKey.getApiKey().getId()).build());

    ta.assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED",
        () -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(used).build()));
    assertInactive(introspect(used), "TOKEN_ALREADY_USED");

    ta.clock().advanceSeconds(300);
    ta.updateTenant(dev.tokenauthority.v1.Tenant.newBuilder().setId("default").addEnabledModules("other").build(), "enabled_modules");
    ta.assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_EXPIRED",
        () -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(expired).build()));
    assertInactive(introspect(expired), "TOKEN_EXPIRED");
  }

  @Test
  void introspect_mintingKeyRevoked_isInactiveRevoked() {
    String token = ta.mint(minter, "u").getToken();
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(minterKey.getApiKey().getId()).build());
    assertInactive(introspect(token), "TOKEN_REVOKED");
  }

  @Test
  void introspect_garbageTokens_areInactiveInvalidNotErrors() {
    String genuine = ta.mint(minter, "u").getToken();
    String[] p = genuine.split("\\.");
    for (String garbage :
        new String[] {"", "garbage", "a.b.c", "x".repeat(100 * 1024), p[0] + "." + p[1] + ".", p[0] + "." + p[1] + "." + p[2] + "x"}) {
      assertInactive(introspect(garbage), "TOKEN_INVALID");
    }
  }

  @Test
  void introspect_anotherTenantsToken_isInactiveInvalid() {
    ta.createTenant("other");
    String otherMinter = ta.createKeyIn("other", "sessions:mint");
    String token = ta.mint(otherMinter, "u").getToken();
    assertInactive(introspect(token), "TOKEN_INVALID");
  }
}
