package dev.tokenauthority.server.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.FieldViolation;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;

/** The token codec on its own: what it writes into the payload, and the length it refuses to sign. */
class SessionTokenCodecTest {
  private static final String EMOJI = "\uD83D\uDE00"; // U+1F600, a surrogate pair in Java

  private final TestClock clock = new TestClock();
  private final BouncyCastleProvider provider = new BouncyCastleProvider();
  private final SessionTokenCodec codec =
      new SessionTokenCodec(
          new SigningKeys(new MemoryStore(), provider, clock, Duration.ofHours(2)), provider, "token-authority", clock,
          Duration.ofSeconds(30));

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

    assertThat(token.length()).isLessThanOrEqualTo(SessionTokenCodec.MAX_TOKEN_LENGTH);
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
}
