package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.server.testing.TokenParts;
import io.grpc.Status;
import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Offline verification of tokens minted by the real server: the claims of a genuine token, and
 * refusal of every forgery the server itself refuses. Forgeries that need a valid signature are
 * signed with the server's own private key, so only the check under test can catch them.
 */
class SessionVerifierTest {
  private InProcessAuthority ta;
  private TestClock clock;
  private TokenAuthorityClient backend;
  private final AtomicInteger fetches = new AtomicInteger();

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
    clock = ta.clock();
    backend =
        TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.createKey("sessions:mint", "sessions:redeem")).build();
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
  }

  private SessionVerifier.Builder verifierBuilder() {
    return SessionVerifier.builder(
            () -> {
              fetches.incrementAndGet();
              return backend.getJwks();
            })
        .tenant("default")
        .clock(clock);
  }

  private SessionVerifier verifier() {
    return verifierBuilder().build();
  }

  private MintedSession mint() {
    return backend.mintSession("rep_8842");
  }

  private static TokenAuthorityException refusal(SessionVerifier v, String token) {
    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> v.verify(token));
    assertThat(e).as("verify refused the token").isNotNull();
    return e;
  }

  private static void assertInvalid(SessionVerifier v, String token) {
    TokenAuthorityException e = refusal(v, token);
    assertThat(e.reason()).isEqualTo(ErrorReason.TOKEN_INVALID);
    assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getMessage()).doesNotContain(token);
  }

  /** The server's active private key and its kid. */
  private record ServerKey(String kid, PrivateKey key) {}

  private ServerKey serverKey() throws Exception {
    SigningKey stored = ta.store().signingKeys().listSigningKeys().get(0);
    PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(stored.privateKeyPkcs8()));
    return new ServerKey(stored.kid(), key);
  }

  /** A token like the server's, signed with the server's key, after {@code change} edits the builder. */
  private String forge(UnaryOperator<JwtBuilder> change) throws Exception {
    ServerKey k = serverKey();
    return forge(k.kid(), k.key(), change);
  }

  private String forge(String kid, PrivateKey key, UnaryOperator<JwtBuilder> change) {
    Instant now = clock.instant();
    JwtBuilder b =
        Jwts.builder()
            .header().keyId(kid).type("session+jwt").and()
            .issuer("token-authority")
            .subject("rep_8842")
            .issuedAt(Date.from(now))
            .notBefore(Date.from(now))
            .expiration(Date.from(now.plusSeconds(300)))
            .id("ses_forged")
            .claim("tid", "default");
    return change.apply(b).signWith(key, Jwts.SIG.EdDSA).compact();
  }

  @Test
  void verify_mintedToken_returnsItsClaims() {
    MintedSession minted = backend.mintSession(MintSessionParams.forUser("rep_8842").audience("roleplay").build());

    VerifiedSession s = verifier().verify(minted.token());

    assertThat(s.sessionId()).isEqualTo(minted.sessionId());
    assertThat(s.externalUserId()).isEqualTo("rep_8842");
    assertThat(s.tenantId()).isEqualTo("default");
    assertThat(s.audience()).contains("roleplay");
    assertThat(s.issueTime()).isEqualTo(TestClock.DEFAULT_START);
    assertThat(s.expireTime()).isEqualTo(minted.expireTime());
    assertThat(s.kid()).isEqualTo(ta.authority().signingKeys().active().kid());
  }

  @Test
  void verify_doesNotConsumeAUse() {
    MintedSession minted = mint();
    verifier().verify(minted.token());

    assertThat(backend.redeem(minted.token()).externalUserId()).isEqualTo("rep_8842");
  }

  @Test
  void verify_forgedSignatureWithTheForgersOwnKidAndKey_isInvalid() throws Exception {
    // A forgery that parses perfectly; the signature is the forger's own.
    PrivateKey forgersKey = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();
    String genuineKid = ta.authority().signingKeys().active().kid();

    assertInvalid(verifier(), forge(genuineKid, forgersKey, b -> b));
  }

  @Test
  void verify_payloadEdited_isInvalid() {
    String token = mint().token();
    TokenParts parts = TokenParts.of(token);
    String edited = TokenParts.compact(parts.headerJson(), parts.payloadJson().replace("rep_8842", "ceo_0001"), parts.signature());

    assertInvalid(verifier(), edited);
  }

  @Test
  void verify_signatureEdited_isInvalid() {
    String token = mint().token();
    String edited = token.substring(0, token.length() - 4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");

    assertInvalid(verifier(), edited);
  }

  @Test
  void verify_algNone_isInvalid() {
    TokenParts parts = TokenParts.of(mint().token());
    String kid = ta.authority().signingKeys().active().kid();
    String none =
        TokenParts.compact("{\"alg\":\"none\",\"typ\":\"session+jwt\",\"kid\":\"" + kid + "\"}", parts.payloadJson(), "");

    assertInvalid(verifier(), none);
  }

  @Test
  void verify_hs256KeyedWithThePublicKey_isInvalid() throws Exception {
    // The classic confusion: HMAC with the public key as the secret, which anyone can compute.
    TokenParts parts = TokenParts.of(mint().token());
    JsonWebKey jwk = backend.getJwks().keys().get(0);
    String signingInput =
        TokenParts.encode("{\"alg\":\"HS256\",\"typ\":\"session+jwt\",\"kid\":\"" + jwk.kid() + "\"}")
            + "." + TokenParts.encode(parts.payloadJson());
    for (byte[] secret : List.of(Base64.getUrlDecoder().decode(jwk.x()), jwk.x().getBytes(StandardCharsets.US_ASCII))) {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      String hs256 =
          signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));

      assertInvalid(verifier(), hs256);
    }
  }

  @Test
  void verify_wrongTyp_isInvalid() throws Exception {
    SessionVerifier v = verifier();
    assertThat(v.verify(forge(b -> b)).sessionId()).isEqualTo("ses_forged"); // the forger's key works...

    assertInvalid(v, forge(b -> b.header().type("JWT").and())); // ...so only typ can refuse this one
  }

  @Test
  void verify_otherIssuer_isInvalid() throws Exception {
    assertInvalid(verifier(), forge(b -> b.issuer("someone-else")));
    assertInvalid(verifierBuilder().issuer("another-authority").build(), mint().token());
  }

  @Test
  void verify_requiredClaimMissing_isInvalid() throws Exception {
    assertInvalid(verifier(), forge(b -> b.claim("tid", null)));
    assertInvalid(verifier(), forge(b -> b.id(null)));
  }

  @Test
  void verify_expiry_allowsTheLeewayAndNoMore() {
    SessionVerifier v = verifier();
    String token = mint().token();

    clock.advanceSeconds(300 + 29);
    assertThat(v.verify(token).externalUserId()).isEqualTo("rep_8842");
    clock.advanceSeconds(2);
    TokenAuthorityException e = refusal(v, token);

    assertThat(e.reason()).isEqualTo(ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void verify_customLeeway_isApplied() {
    SessionVerifier v = verifierBuilder().leeway(Duration.ZERO).build();
    String token = mint().token();
    clock.advanceSeconds(301);

    assertThat(refusal(v, token).reason()).isEqualTo(ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void verify_notYetValid_isInvalid() throws Exception {
    SessionVerifier v = verifier();
    Instant later = clock.instant().plusSeconds(120);

    assertInvalid(v, forge(b -> b.notBefore(Date.from(later)).issuedAt(Date.from(later))));
  }

  @Test
  void verify_anotherTenantsToken_isTokenInvalid_asTheServerAnswersIt() {
    ta.createTenant("evil");
    TokenAuthorityClient evil =
        TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.createKeyIn("evil", "sessions:mint")).build();
    String evilToken = evil.mintSession("rep_8842").token();

    TokenAuthorityException e = refusal(verifier(), evilToken);

    assertThat(e.reason()).isEqualTo(ErrorReason.TOKEN_INVALID);
    assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(verifier().verify(mint().token()).tenantId()).isEqualTo("default");
    // Expired, it is still another tenant's: invalid here, as the server's Redeem answers it.
    String ownToken = mint().token();
    clock.advanceSeconds(3600);
    assertThat(refusal(verifier(), evilToken).reason()).isEqualTo(ErrorReason.TOKEN_INVALID);
    assertThat(refusal(verifier(), ownToken).reason()).isEqualTo(ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void anyTenant_acceptsEveryTenantsToken_andSaysWhose() {
    ta.createTenant("other");
    TokenAuthorityClient other =
        TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.createKeyIn("other", "sessions:mint")).build();
    SessionVerifier shared = verifierBuilder().anyTenant().build();

    assertThat(shared.verify(other.mintSession("u").token()).tenantId()).isEqualTo("other");
    assertThat(shared.verify(mint().token()).tenantId()).isEqualTo("default");
  }

  @Test
  void build_withoutChoosingTheTenant_isRefused() {
    assertThatThrownBy(() -> SessionVerifier.builder(() -> backend.getJwks()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tenant(id)")
        .hasMessageContaining("anyTenant()");
  }

  @Test
  void verify_expectedAudience_refusesAnyOther() {
    SessionVerifier v = verifierBuilder().audience("roleplay").build();
    String forRoleplay = backend.mintSession(MintSessionParams.forUser("u").audience("roleplay").build()).token();
    String forBilling = backend.mintSession(MintSessionParams.forUser("u").audience("billing").build()).token();
    String forAnyone = mint().token();

    assertThat(v.verify(forRoleplay).audience()).contains("roleplay");
    for (String token : List.of(forBilling, forAnyone)) {
      TokenAuthorityException e = refusal(v, token);
      assertThat(e.reason()).isEqualTo(ErrorReason.AUDIENCE_MISMATCH);
      assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void verify_tooLong_isInvalidWithoutFetchingKeys() {
    assertInvalid(verifier(), "eyJ" + "A".repeat(5000) + ".e30.sig");
    assertThat(fetches).hasValue(0);
  }

  @Test
  void unknownKids_fetchTheKeysAtMostOncePerRefreshInterval() throws Exception {
    SessionVerifier v = verifier();
    v.verify(mint().token());
    PrivateKey forgersKey = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();

    for (int i = 0; i < 20; i++) {
      assertInvalid(v, forge("sig_unknown" + i, forgersKey, b -> b));
    }
    assertThat(fetches).as("no refetch within a second of the first fetch").hasValue(1);

    clock.advance(Duration.ofMillis(900));
    assertInvalid(v, forge("sig_later", forgersKey, b -> b));
    assertThat(fetches).hasValue(1);
    clock.advance(Duration.ofMillis(100));
    for (int i = 0; i < 20; i++) {
      assertInvalid(v, forge("sig_other" + i, forgersKey, b -> b));
    }
    assertThat(fetches).as("one refetch once a second had passed").hasValue(2);
  }

  @Test
  void rotation_firstRefetchMeetsAReplicaNotYetReloaded_theNewKidVerifiesASecondLater() {
    // The authority's replicas use another's new key within about a second: the verifier's
    // first refetch may reach one that does not list it yet.
    AtomicBoolean staleReplica = new AtomicBoolean();
    JsonWebKeySet[] beforeRotation = new JsonWebKeySet[1];
    SessionVerifier v =
        SessionVerifier.builder(() -> staleReplica.get() ? beforeRotation[0] : backend.getJwks()).tenant("default").clock(clock).build();
    v.verify(mint().token());
    beforeRotation[0] = backend.getJwks();
    clock.advanceSeconds(1);
    ta.authority().signingKeys().rotate();
    String token = mint().token();

    staleReplica.set(true);
    assertInvalid(v, token);
    staleReplica.set(false);
    clock.advanceSeconds(1);
    assertThat(v.verify(token).externalUserId()).isEqualTo("rep_8842");
  }

  @Test
  void keysPastTheirAge_oneCallerRefetches_theOthersVerifyWithTheCachedKeysMeanwhile() throws Exception {
    CountDownLatch slowFetchStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SessionVerifier slow =
        SessionVerifier.builder(
                () -> {
                  if (fetches.incrementAndGet() > 1) {
                    slowFetchStarted.countDown();
                    try {
                      release.await(10, TimeUnit.SECONDS); // an authority that does not answer
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                  return backend.getJwks();
                })
            .tenant("default").clock(clock).maxKeyAge(Duration.ofMinutes(1)).build();
    String token = backend.mintSession(MintSessionParams.forUser("rep_8842").ttl(Duration.ofHours(1)).build()).token();
    slow.verify(token);
    clock.advanceSeconds(61);

    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<VerifiedSession> refetching = pool.submit(() -> slow.verify(token));
      assertThat(slowFetchStarted.await(5, TimeUnit.SECONDS)).isTrue();
      Future<VerifiedSession> other = pool.submit(() -> slow.verify(token));
      assertThat(other.get(2, TimeUnit.SECONDS).externalUserId()).isEqualTo("rep_8842");
      release.countDown();
      assertThat(refetching.get(10, TimeUnit.SECONDS).externalUserId()).isEqualTo("rep_8842");
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void verify_signatureSpelledAnotherWay_isInvalid() {
    // The last character's 4 unused bits, or padding, change the text but not the signature.
    SessionVerifier v = verifier();
    String token = mint().token();
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char last = token.charAt(token.length() - 1);
    String otherSpelling = token.substring(0, token.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);

    assertInvalid(v, otherSpelling);
    assertInvalid(v, token + "==");
    assertThat(v.verify(token).externalUserId()).isEqualTo("rep_8842");
  }

  @Test
  void aJwkSetLoadedFromAFile_withoutTheOptionalAlgAndUse_verifies() {
    JsonWebKey served = backend.getJwks().keys().get(0);
    JsonWebKeySet loaded = JsonWebKeySet.of(List.of(new JsonWebKey(served.kid(), "OKP", "Ed25519", null, null, served.x())));
    SessionVerifier v = SessionVerifier.builder(() -> loaded).tenant("default").clock(clock).build();

    assertThat(v.verify(mint().token()).externalUserId()).isEqualTo("rep_8842");
  }

  @Test
  void rotation_newKidIsFetched_oldTokensStillVerify() {
    SessionVerifier v = verifier();
    MintedSession before = mint();
    String oldKid = v.verify(before.token()).kid();

    // Keys made in the same instant would tie for newest; a real rotation comes later.
    clock.advanceSeconds(1);
    String newKid = ta.authority().signingKeys().rotate().kid();
    MintedSession after = mint();
    clock.advanceSeconds(5);

    assertThat(v.verify(after.token()).kid()).isEqualTo(newKid).isNotEqualTo(oldKid);
    assertThat(v.verify(before.token()).kid()).isEqualTo(oldKid);
    assertThat(fetches).hasValue(2);
  }

  @Test
  void rotation_manyThreadsMeetingTheNewKid_fetchOnce() throws Exception {
    SessionVerifier v = verifier();
    v.verify(mint().token());
    clock.advanceSeconds(1);
    ta.authority().signingKeys().rotate();
    String token = mint().token();
    clock.advanceSeconds(5);

    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<VerifiedSession>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        Callable<VerifiedSession> verify =
            () -> {
              go.await();
              return v.verify(token);
            };
        results.add(pool.submit(verify));
      }
      go.countDown();
      for (Future<VerifiedSession> r : results) {
        assertThat(r.get(10, TimeUnit.SECONDS).externalUserId()).isEqualTo("rep_8842");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fetches).hasValue(2);
  }

  @Test
  void keysOlderThanTheMaximumAge_areFetchedAgain() {
    SessionVerifier v = verifierBuilder().maxKeyAge(Duration.ofMinutes(10)).build();
    v.verify(mint().token());

    clock.advance(Duration.ofMinutes(10));
    v.verify(mint().token());

    assertThat(fetches).hasValue(2);
  }

  @Test
  void failedRefreshAtMaximumAge_keepsVerifyingWithTheCachedKeys() {
    AtomicBoolean down = new AtomicBoolean();
    SessionVerifier v =
        SessionVerifier.builder(
                () -> {
                  if (down.get()) {
                    throw new TokenAuthorityException(Status.Code.UNAVAILABLE, "", "down", Map.of(), null, Map.of(), null);
                  }
                  return backend.getJwks();
                })
            .tenant("default")
            .clock(clock)
            .maxKeyAge(Duration.ofMinutes(10))
            .build();
    v.verify(mint().token());
    down.set(true);
    clock.advance(Duration.ofMinutes(11));

    assertThat(v.verify(mint().token()).externalUserId()).isEqualTo("rep_8842");
  }

  @Test
  void firstFetchFailing_propagatesTheFailure_andIsNotRepeatedWithinTheInterval() {
    AtomicInteger attempts = new AtomicInteger();
    SessionVerifier v =
        SessionVerifier.builder(
                () -> {
                  attempts.incrementAndGet();
                  throw new TokenAuthorityException(
                      Status.Code.UNAVAILABLE, "STORE_UNAVAILABLE", "down", Map.of(), null, Map.of(), null);
                })
            .tenant("default")
            .clock(clock)
            .build();
    String token = mint().token();

    for (int i = 0; i < 10; i++) {
      assertThat(refusal(v, token).reason()).isEqualTo(ErrorReason.STORE_UNAVAILABLE);
    }
    assertThat(attempts).hasValue(1);
    clock.advanceSeconds(5);
    refusal(v, token);
    assertThat(attempts).hasValue(2);
  }
}
