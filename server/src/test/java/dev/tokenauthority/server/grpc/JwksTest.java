package dev.tokenauthority.server.grpc;

import static dev.tokenauthority.server.testing.JdkEd25519.publicKey;
import static dev.tokenauthority.server.testing.JdkEd25519.verifies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TokenParts;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.GetJwksResponse;
import dev.tokenauthority.v1.Jwk;
import dev.tokenauthority.v1.RedeemRequest;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jwts;
import java.security.PublicKey;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GetJwks: the JWK Set's shape, open to any valid key, and that its keys verify minted tokens. */
class JwksTest {
  /** The DER prefix of an X.509 SubjectPublicKeyInfo for an Ed25519 key (RFC 8410). */

  private InProcessAuthority ta;
  private String redeemer;

  @BeforeEach
  void setUp() {
    ta = InProcessAuthority.start();
    redeemer = ta.createKey("sessions:redeem");
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private GetJwksResponse jwks(String secret) {
    return ta.stub(secret).getJwks(GetJwksRequest.getDefaultInstance());
  }

  @Test
  void getJwks_redeemOnlyKey_returnsTheEd25519Key() {
    GetJwksResponse r = jwks(redeemer);
    assertThat(r.getKeysList()).hasSize(1);
    Jwk k = r.getKeys(0);
    assertThat(k.getKty()).isEqualTo("OKP");
    assertThat(k.getCrv()).isEqualTo("Ed25519");
    assertThat(k.getAlg()).isEqualTo("EdDSA");
    assertThat(k.getUse()).isEqualTo("sig");
    assertThat(k.getKid()).isNotBlank();
    assertThat(k.getX()).hasSize(43).matches("[A-Za-z0-9_-]{43}");
    assertThat(Base64.getUrlDecoder().decode(k.getX())).hasSize(32);
  }

  @Test
  void getJwks_anyScope_isAllowed() {
    assertThat(jwks(ta.createKey("sessions:mint")).getKeysCount()).isEqualTo(1);
    assertThat(jwks(ta.createKey("keys:read")).getKeysCount()).isEqualTo(1);
    assertThat(jwks(ta.createKey("chat:write")).getKeysCount()).isEqualTo(1);
    assertThat(jwks(ta.adminSecret()).getKeysCount()).isEqualTo(1);
  }

  @Test
  void getJwks_key_verifiesAMintedToken() throws Exception {
    String token = ta.mint(ta.createKey("sessions:mint"), "rep_8842").getToken();
    Jwk jwk = jwks(redeemer).getKeys(0);
    assertThat(TokenParts.of(token).header().getFieldsOrThrow("kid").getStringValue()).isEqualTo(jwk.getKid());

    PublicKey key = publicKey(jwk);
    assertThat(verifies(token, key)).isTrue();

    // The same with a JWT library, as a redeemer verifying offline would do.
    Claims claims =
        Jwts.parser().verifyWith(key).clock(() -> java.util.Date.from(ta.clock().instant())).build().parseSignedClaims(token).getPayload();
    assertThat(claims.getSubject()).isEqualTo("rep_8842");
    assertThat(claims.getIssuer()).isEqualTo("token-authority");

    // And it does not verify what it did not sign.
    String[] p = token.split("\\.");
    String edited = p[0] + "." + TokenParts.encode(TokenParts.of(token).payloadJson().replace("rep_8842", "rep_0001")) + "." + p[2];
    assertThat(verifies(edited, key)).isFalse();
    assertThatThrownBy(() -> Jwts.parser().verifyWith(key).build().parseSignedClaims(edited))
        .isInstanceOf(io.jsonwebtoken.security.SignatureException.class);
  }

  @Test
  void getJwks_afterRotation_listsActiveKeyFirstAndKeepsTheOld() throws Exception {
    String minter = ta.createKey("sessions:mint");
    String oldToken = ta.mint(minter, "u").getToken();
    Jwk old = jwks(redeemer).getKeys(0);

    ta.clock().advanceSeconds(1);
    ta.authority().signingKeys().rotate();
    String newToken = ta.mint(minter, "u").getToken();

    GetJwksResponse r = jwks(redeemer);
    assertThat(r.getKeysList()).hasSize(2);
    Jwk active = r.getKeys(0);
    assertThat(active.getKid()).isNotEqualTo(old.getKid());
    assertThat(r.getKeys(1)).isEqualTo(old);
    assertThat(TokenParts.of(newToken).header().getFieldsOrThrow("kid").getStringValue()).isEqualTo(active.getKid());
    assertThat(verifies(newToken, publicKey(active))).isTrue();
    assertThat(verifies(oldToken, publicKey(old))).isTrue();
    assertThat(verifies(oldToken, publicKey(active))).isFalse();
    // A token signed by the retired key still redeems.
    assertThat(ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(oldToken).build()).getSessionId()).isNotEmpty();
  }
}
