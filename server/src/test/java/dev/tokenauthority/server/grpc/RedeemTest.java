package dev.tokenauthority.server.grpc;

import static dev.tokenauthority.server.testing.InProcessAuthority.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.server.testing.TokenParts;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Keys;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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

/** Redeem: every field, single and limited use under concurrency, expiry, revocation, forgeries, audience and origin. */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class RedeemTest {
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
            .addScopes("chat:read")
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

  private TokenAuthorityBlockingStub redeemerStub() {
    return ta.stub(redeemer);
  }

  private RedeemResponse redeem(String token) {
    return redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).build());
  }

  private StatusRuntimeException redeemFails(Code code, String reason, String token) {
    return ta.assertFails(code, reason, () -> redeem(token));
  }

  private String mint() {
    return ta.mint(minter, "rep_8842").getToken();
  }

  @Test
  void redeem_freshToken_returnsEveryField() {
    Instant now = ta.clock().instant();
    Struct context =
        Struct.newBuilder()
            .putFields("persona", Value.newBuilder().setStringValue("friendly").build())
            .putFields("chatbot_id", Value.newBuilder().setNumberValue(42).build())
            .putFields("flags", Value.newBuilder().setListValue(ListValue.newBuilder().addValues(Value.newBuilder().setBoolValue(true))).build())
            .putFields("nested", Value.newBuilder().setStructValue(Struct.newBuilder().putFields("x", Value.newBuilder().setNullValueValue(0).build())).build())
            .build();
    MintSessionResponse minted =
        ta.mint(minter, MintSessionRequest.newBuilder()
            .setExternalUserId("rep_8842")
            .setExternalGroupId("agency_12")
            .setAudience("chatbot")
            .setTtlSeconds(600)
            .setMaxUses(2)
            .addScopes("chat:write")
            .setContext(context)
            .build());

    RedeemResponse r = redeem(minted.getToken());

    assertThat(r.getSessionId()).isEqualTo(minted.getSessionId());
    assertThat(r.getTenantId()).isEqualTo("default");
    assertThat(r.getApiKeyId()).isEqualTo(minterKey.getApiKey().getId());
    assertThat(r.getExternalUserId()).isEqualTo("rep_8842");
    assertThat(r.getExternalGroupId()).isEqualTo("agency_12");
    assertThat(r.getAudience()).isEqualTo("chatbot");
    assertThat(r.getScopesList()).containsExactly("chat:write");
    assertThat(r.getContext()).isEqualTo(context);
    assertThat(r.getIssueTime().getSeconds()).isEqualTo(now.getEpochSecond());
    assertThat(r.getExpireTime()).isEqualTo(minted.getExpireTime());
    assertThat(r.getExpireTime().getSeconds()).isEqualTo(now.getEpochSecond() + 600);
    assertThat(r.getUsesRemaining()).isEqualTo(1);
  }

  @Test
  void redeem_noContextAtMint_hasNoContext() {
    RedeemResponse r = redeem(mint());
    assertThat(r.hasContext()).isFalse();
    assertThat(r.getUsesRemaining()).isZero();
  }

  @Test
  void redeem_secondUse_isAlreadyUsed() {
    String token = mint();
    assertThat(redeem(token).getUsesRemaining()).isZero();
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", token);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", token);
  }

  @Test
  void redeem_maxUses3_succeedsExactlyThreeTimes() {
    String token = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setMaxUses(3).build()).getToken();
    assertThat(redeem(token).getUsesRemaining()).isEqualTo(2);
    assertThat(redeem(token).getUsesRemaining()).isEqualTo(1);
    assertThat(redeem(token).getUsesRemaining()).isEqualTo(0);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", token);
  }

  @Test
  void redeem_atExpiry_isTokenExpired() {
    String token = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setTtlSeconds(60).setMaxUses(2).build()).getToken();
    ta.clock().advanceSeconds(59);
    assertThat(redeem(token).getUsesRemaining()).isEqualTo(1);
    ta.clock().advanceSeconds(1);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_EXPIRED", token);
  }

  @Test
  void redeem_longAfterExpiry_isTokenExpired() {
    String token = mint();
    ta.clock().advanceSeconds(24 * 3600);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_EXPIRED", token);
  }

  @Test
  void redeem_expiredAndPurged_isTokenExpired() {
    String token = mint();
    ta.clock().advanceSeconds(300 + 31);
    assertThat(ta.authority().sessions().purgeExpired()).isEqualTo(1);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_EXPIRED", token);
  }

  @Test
  void purge_interruptedByAStop_startsNoFurtherBatch_andTheNextRunTakesTheRest() {
    for (int i = 0; i < 1001; i++) {
      mint();
    }
    ta.clock().advanceSeconds(300 + 31);
    Thread.currentThread().interrupt();
    try {
      assertThat(ta.authority().sessions().purgeExpired()).as("a stopping purge ends, without a store failure").isZero();
    } finally {
      Thread.interrupted();
    }
    assertThat(ta.authority().sessions().purgeExpired()).as("two batches of the next run").isEqualTo(1001);
  }

  @Test
  void redeem_otherTenantsExpiredAndPurgedToken_isTokenInvalid() {
    ta.createTenant("other");
    String otherMinter = ta.createKeyIn("other", "sessions:mint");
    String token = ta.mint(otherMinter, "u").getToken();
    ta.clock().advanceSeconds(300 + 31);
    assertThat(ta.authority().sessions().purgeExpired()).isEqualTo(1);

    // Exactly as for a token that never existed: nothing tells it expired.
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", token);
  }

  @Test
  void redeem_garbageTokens_areTokenInvalid() {
    for (String garbage :
        List.of("", " ", "garbage", "a.b.c", "eyJ.eyJ.", "..", "eyJhbGciOiJFZERTQSJ9", "x".repeat(4096), "x".repeat(4097))) {
      redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", garbage);
    }
  }

  @Test
  void redeem_100KbGarbageToken_isTokenInvalid() {
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", "eyJ" + "A".repeat(100 * 1024) + ".e30.");
  }

  @Test
  void redeem_algNoneToken_isTokenInvalid() {
    MintSessionResponse genuine = ta.mint(minter, "rep_8842");
    TokenParts parts = TokenParts.of(genuine.getToken());
    String kid = parts.header().getFieldsOrThrow("kid").getStringValue();
    String none = TokenParts.compact("{\"alg\":\"none\",\"typ\":\"session+jwt\",\"kid\":\"" + kid + "\"}", parts.payloadJson(), "");
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", none);
    String noneWithSignature = TokenParts.compact("{\"alg\":\"none\",\"typ\":\"session+jwt\",\"kid\":\"" + kid + "\"}", parts.payloadJson(), parts.signature());
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", noneWithSignature);
    // The forgeries did not consume the genuine token's use.
    assertThat(redeem(genuine.getToken()).getSessionId()).isEqualTo(genuine.getSessionId());
  }

  @Test
  void redeem_onePayloadCharacterChanged_isTokenInvalid() {
    String token = mint();
    String[] p = token.split("\\.");
    for (int i : new int[] {0, p[1].length() / 2, p[1].length() - 1}) {
      char c = p[1].charAt(i);
      String edited = p[1].substring(0, i) + (c == 'A' ? 'B' : 'A') + p[1].substring(i + 1);
      redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", p[0] + "." + edited + "." + p[2]);
    }
    assertThat(redeem(token).getUsesRemaining()).isZero();
  }

  @Test
  void redeem_subjectSwappedInGenuinelySignedShape_isTokenInvalid() {
    String token = mint();
    TokenParts parts = TokenParts.of(token);
    String forged = TokenParts.compact(parts.headerJson(), parts.payloadJson().replace("rep_8842", "rep_0001"), parts.signature());
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", forged);
  }

  @Test
  void redeem_reSignedWithAnotherEd25519Key_isTokenInvalid() throws Exception {
    String token = mint();
    KeyPair attacker = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    String kid = TokenParts.of(token).header().getFieldsOrThrow("kid").getStringValue();
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", resign(token, kid, attacker.getPrivate()));
    assertThat(redeem(token).getUsesRemaining()).isZero();
  }

  @Test
  void redeem_unknownKid_isTokenInvalid() throws Exception {
    String token = mint();
    KeyPair attacker = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", resign(token, "sig_unknownkid", attacker.getPrivate()));
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", resign(token, null, attacker.getPrivate()));
  }

  @Test
  void redeem_hs256Token_isTokenInvalid() {
    String token = mint();
    TokenParts parts = TokenParts.of(token);
    String kid = parts.header().getFieldsOrThrow("kid").getStringValue();
    String hs256 =
        claims(parts, kid).signWith(Jwts.SIG.HS256.key().build(), Jwts.SIG.HS256).compact();
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", hs256);
  }

  @Test
  void redeem_hs256WithPublicKeyAsSecret_isTokenInvalid() {
    // The classic algorithm confusion: HMAC keyed with the (public) verification key.
    String token = mint();
    TokenParts parts = TokenParts.of(token);
    String kid = parts.header().getFieldsOrThrow("kid").getStringValue();
    byte[] publicKey = ta.authority().signingKeys().verificationKey(kid).publicKey().getEncoded();
    byte[] raw = ta.authority().signingKeys().verificationKey(kid).raw();
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID",
        claims(parts, kid).signWith(Keys.hmacShaKeyFor(publicKey), Jwts.SIG.HS256).compact());
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID",
        claims(parts, kid).signWith(Keys.hmacShaKeyFor(raw), Jwts.SIG.HS256).compact());
  }

  @Test
  void redeem_genuineSignatureButUnstoredSession_isTokenInvalid() {
    // Signed by the authority's own key but never minted (no stored session): still refused.
    String token = mint();
    TokenParts parts = TokenParts.of(token);
    String kid = parts.header().getFieldsOrThrow("kid").getStringValue();
    String forged =
        ta.authority().codec().sign(new dev.tokenauthority.server.signing.SessionClaims(
            "ses_neverminted0000000000", "default", "rep_8842", "",
            ta.clock().instant(), ta.clock().instant().plusSeconds(300)));
    assertThat(TokenParts.of(forged).header().getFieldsOrThrow("kid").getStringValue()).isEqualTo(kid);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", forged);
  }

  @Test
  void redeem_anotherTenantsToken_isTokenInvalidAndNotConsumed() {
    ta.createTenant("other");
    String otherMinter = ta.createKeyIn("other", "sessions:mint");
    String otherRedeemer = ta.createKeyIn("other", "sessions:redeem");
    String token = ta.mint(otherMinter, "rep_1").getToken();

    redeemFails(Code.UNAUTHENTICATED, "TOKEN_INVALID", token);

    RedeemResponse r = ta.stub(otherRedeemer).redeem(RedeemRequest.newBuilder().setToken(token).build());
    assertThat(r.getTenantId()).isEqualTo("other");
  }

  @Test
  void redeem_differentAudience_isAudienceMismatchAndNotConsumed() {
    String token = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setAudience("chatbot").build()).getToken();
    ta.assertFails(Code.PERMISSION_DENIED, "AUDIENCE_MISMATCH",
        () -> redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setAudience("billing").build()));
    RedeemResponse r = redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setAudience("chatbot").build());
    assertThat(r.getAudience()).isEqualTo("chatbot");
  }

  @Test
  void redeem_audienceGivenForTokenWithout_isAudienceMismatch() {
    String token = mint();
    ta.assertFails(Code.PERMISSION_DENIED, "AUDIENCE_MISMATCH",
        () -> redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setAudience("chatbot").build()));
  }

  @Test
  void redeem_noAudienceGiven_acceptsAnyAudience() {
    String token = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setAudience("chatbot").build()).getToken();
    assertThat(redeem(token).getAudience()).isEqualTo("chatbot");
  }

  @Test
  void redeem_originBoundToken_needsThatOrigin() {
    String token =
        ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setOrigin("https://app.example.com").build()).getToken();
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", () -> redeem(token));
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED",
        () -> redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("https://evil.example.com").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED",
        () -> redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("http://app.example.com").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED",
        () -> redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("not an origin").build()));
    RedeemResponse r = redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("https://app.example.com").build());
    assertThat(r.getUsesRemaining()).isZero();
  }

  @Test
  void redeem_originBoundToken_acceptsSameOriginInAnotherSpelling() {
    String token =
        ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setOrigin("https://app.example.com").build()).getToken();
    RedeemResponse r = redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("HTTPS://App.Example.com:443").build());
    assertThat(r.getSessionId()).isNotEmpty();
  }

  @Test
  void redeem_unboundToken_ignoresOrigin() {
    String token = mint();
    assertThat(redeemerStub().redeem(RedeemRequest.newBuilder().setToken(token).setOrigin("https://anything.example").build()).getSessionId())
        .isNotEmpty();
  }

  @Test
  void redeem_revokedSession_isTokenRevoked() {
    MintSessionResponse minted = ta.mint(minter, "u");
    ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build());
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED", minted.getToken());
  }

  @Test
  void redeem_sessionRevokedByToken_isTokenRevoked() {
    String token = mint();
    ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken(token).build());
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED", token);
  }

  @Test
  void redeem_mintingKeyRevoked_isTokenRevoked() {
    String unused = mint();
    String partlyUsed = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setMaxUses(3).build()).getToken();
    redeem(partlyUsed);
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(minterKey.getApiKey().getId()).build());
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED", unused);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED", partlyUsed);
  }

  @Test
  void redeem_revokedThenExpired_isTokenRevoked() {
    MintSessionResponse minted = ta.mint(minter, "u");
    ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build());
    ta.clock().advanceSeconds(301);
    redeemFails(Code.UNAUTHENTICATED, "TOKEN_REVOKED", minted.getToken());
  }

  @Test
  void redeem_errorMessages_neverContainTheToken() {
    String token = mint();
    redeem(token);
    StatusRuntimeException e = redeemFails(Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", token);
    assertThat(e.getStatus().getDescription()).doesNotContain(token).doesNotContain(token.split("\\.")[2]);
    assertThat(errorInfo(e).getMetadataMap().values()).noneMatch(v -> v.contains(token));
  }

  @Test
  void redeem_64ConcurrentCallsOnSingleUseToken_exactlyOneSucceeds() throws Exception {
    ta.close();
    ta = authority().directExecutor(false).start();
    String mintKey = ta.createKey("sessions:mint");
    String redeemKey = ta.createKey("sessions:redeem");
    int callers = 64;
    // Several rounds, each released at once by a barrier, to make a lost race likely to show.
    int rounds = 10;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      for (int round = 0; round < rounds; round++) {
        String token = ta.mint(mintKey, "rep_8842").getToken();
        CyclicBarrier go = new CyclicBarrier(callers);
        List<Future<Object>> results = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
          TokenAuthorityBlockingStub stub = ta.stub(redeemKey);
          results.add(pool.submit(() -> {
            go.await(10, TimeUnit.SECONDS);
            try {
              return stub.redeem(RedeemRequest.newBuilder().setToken(token).build());
            } catch (StatusRuntimeException e) {
              return e;
            }
          }));
        }
        int successes = 0;
        int alreadyUsed = 0;
        for (Future<Object> f : results) {
          Object r = f.get(20, TimeUnit.SECONDS);
          if (r instanceof RedeemResponse) {
            successes++;
          } else {
            StatusRuntimeException e = (StatusRuntimeException) r;
            assertThat(e.getStatus().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(errorInfo(e).getReason()).isEqualTo("TOKEN_ALREADY_USED");
            alreadyUsed++;
          }
        }
        assertThat(successes).as("successes in round %s", round).isEqualTo(1);
        assertThat(alreadyUsed).as("TOKEN_ALREADY_USED in round %s", round).isEqualTo(callers - 1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void redeem_64ConcurrentCallsOnFiveUseToken_exactlyFiveSucceed() throws Exception {
    ta.close();
    ta = authority().directExecutor(false).start();
    String mintKey = ta.createKey("sessions:mint");
    String redeemKey = ta.createKey("sessions:redeem");
    String token = ta.mint(mintKey, MintSessionRequest.newBuilder().setExternalUserId("u").setMaxUses(5).build()).getToken();
    ExecutorService pool = Executors.newFixedThreadPool(64);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        TokenAuthorityBlockingStub stub = ta.stub(redeemKey);
        results.add(pool.submit(() -> {
          go.await();
          try {
            return stub.redeem(RedeemRequest.newBuilder().setToken(token).build()).getUsesRemaining();
          } catch (StatusRuntimeException e) {
            assertThat(errorInfo(e).getReason()).isEqualTo("TOKEN_ALREADY_USED");
            return -1;
          }
        }));
      }
      go.countDown();
      List<Integer> remaining = new ArrayList<>();
      for (Future<Integer> f : results) {
        int r = f.get(20, TimeUnit.SECONDS);
        if (r >= 0) {
          remaining.add(r);
        }
      }
      assertThat(remaining).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    } finally {
      pool.shutdownNow();
    }
  }

  /** The claims of a genuine token in a jjwt builder, with this header kid (none when null). */
  private static io.jsonwebtoken.JwtBuilder claims(TokenParts parts, String kid) {
    Struct p = parts.payload();
    var b = Jwts.builder().header().type("session+jwt");
    if (kid != null) {
      b.keyId(kid);
    }
    return b.and()
        .issuer(p.getFieldsOrThrow("iss").getStringValue())
        .subject(p.getFieldsOrThrow("sub").getStringValue())
        .issuedAt(date(p, "iat"))
        .notBefore(date(p, "nbf"))
        .expiration(date(p, "exp"))
        .id(p.getFieldsOrThrow("jti").getStringValue())
        .claim("tid", p.getFieldsOrThrow("tid").getStringValue());
  }

  private static String resign(String token, String kid, PrivateKey key) {
    return claims(TokenParts.of(token), kid).signWith(key, Jwts.SIG.EdDSA).compact();
  }

  private static Date date(Struct payload, String claim) {
    return new Date((long) payload.getFieldsOrThrow(claim).getNumberValue() * 1000);
  }
}
