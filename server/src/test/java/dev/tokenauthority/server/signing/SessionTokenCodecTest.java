package dev.tokenauthority.server.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.contract.SessionTokens;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.FieldViolation;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Signing, verifying and peeking at session tokens. */
class SessionTokenCodecTest {
  private static final String EMOJI = "\uD83D\uDE00"; // U+1F600, a surrogate pair in Java

  private final TestClock clock = new TestClock();
  private final SessionTokenCodec codec = new Authority(new MemoryStore(), Authority.Settings.defaults(), clock).codec();

  private String sign(long ttlSeconds) {
    Instant now = clock.instant();
    return codec.sign(new SessionClaims("ses_1", "acme", "user-1", "chat", now, now.plusSeconds(ttlSeconds)));
  }

  @Test
  void verify_aTokenItSigned_returnsItsClaimsAndKid() {
    VerifiedSessionToken verified = codec.verify(sign(60));

    assertThat(verified.claims().sessionId()).isEqualTo("ses_1");
    assertThat(verified.claims().tenantId()).isEqualTo("acme");
    assertThat(verified.claims().subject()).isEqualTo("user-1");
    assertThat(verified.claims().audience()).isEqualTo("chat");
    assertThat(verified.kid()).isNotEmpty();
  }

  @Test
  void verify_pastItsExpiry_isTokenExpired() {
    String token = sign(60);
    clock.advanceSeconds(3600);

    assertThat(reason(token)).isEqualTo(ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void verify_editedPayload_isTokenInvalid() {
    String token = sign(60);
    String[] parts = token.split("\\.");
    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("user-1", "user-2");
    String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];

    assertThat(reason(forged)).isEqualTo(ErrorReason.TOKEN_INVALID);
  }

  @Test
  void verify_signatureSpelledAnotherWay_isTokenInvalid() {
    // The last character's 4 unused bits, or padding, change the text but not the signature.
    String token = sign(60);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char last = token.charAt(token.length() - 1);
    String otherSpelling = token.substring(0, token.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);

    assertThat(reason(otherSpelling)).isEqualTo(ErrorReason.TOKEN_INVALID);
    assertThat(reason(token + "==")).isEqualTo(ErrorReason.TOKEN_INVALID);
    assertThat(codec.verify(token).claims().subject()).isEqualTo("user-1");
  }

  @Test
  void verify_unsignedAlgNone_isTokenInvalid() {
    String header = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
    String payload = sign(60).split("\\.")[1];

    assertThat(reason(header + "." + payload + ".")).isEqualTo(ErrorReason.TOKEN_INVALID);
  }

  @Test
  void peekSessionId_readsTheJti_withoutVerifying_andNothingFromGarbage() {
    assertThat(SessionTokenCodec.peekSessionId(sign(60))).contains("ses_1");
    assertThat(SessionTokenCodec.peekClaim(sign(60), SessionTokens.TENANT_CLAIM)).contains("acme");
    assertThat(SessionTokenCodec.peekSessionId("not-a-token")).isEmpty();
    assertThat(SessionTokenCodec.peekSessionId("a.b.c.d")).isEmpty();
    assertThat(SessionTokenCodec.peekSessionId("a.!!!.c")).isEmpty();
    assertThat(SessionTokenCodec.peekSessionId("x".repeat(SessionTokens.MAX_LENGTH + 1))).isEmpty();
  }

  private SessionClaims claims(String subject) {
    Instant now = clock.instant();
    return new SessionClaims("ses_1", "default", subject, "", now, now.plusSeconds(300));
  }

  @Test
  void sign_nonAsciiSubject_writesRawUtf8NotEscapes() {
    String token = codec.sign(claims(EMOJI + "é"));

    String payload = new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8);
    assertThat(payload).contains("\"sub\":\"" + EMOJI + "é\"").doesNotContain("\\u");
  }

  @Test
  void sign_256EmojiSubject_fitsTheLengthRedeemAcceptsAndVerifies() {
    String subject = EMOJI.repeat(256);

    String token = codec.sign(claims(subject));

    assertThat(token.length()).isLessThanOrEqualTo(SessionTokens.MAX_LENGTH);
    assertThat(codec.verify(token).claims().subject()).isEqualTo(subject);
  }

  @Test
  void sign_tokenOverMaxLength_isInvalidRequestNamingExternalUserId() {
    // Longer than the API lets through, to show the codec never hands out a token verify refuses.
    String subject = EMOJI.repeat(1000);

    assertThatThrownBy(() -> codec.sign(claims(subject)))
        .isInstanceOfSatisfying(AuthorityException.class, e -> {
          assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_REQUEST);
          assertThat(e.violations()).extracting(FieldViolation::field).containsExactly("external_user_id");
        });
  }

  private ErrorReason reason(String token) {
    return catchThrowableOfType(() -> codec.verify(token), AuthorityException.class).reason();
  }
}
