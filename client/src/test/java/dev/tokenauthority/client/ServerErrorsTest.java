package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.testing.InProcessAuthority;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real server's refusals decode to the right code, ErrorReason and field violations, and never carry a secret. */
class ServerErrorsTest {
  private InProcessAuthority ta;

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
  }

  private TokenAuthorityClient client(String apiKey) {
    return TokenAuthorityClient.builder().channel(ta.channel()).apiKey(apiKey).build();
  }

  private static TokenAuthorityException refusal(ThrowingCallable call) {
    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, call);
    assertThat(e).as("a TokenAuthorityException").isNotNull();
    return e;
  }

  @Test
  void unknownApiKey_isApiKeyInvalid() {
    TokenAuthorityException e = refusal(() -> client("sk_not_a_real_key_at_all_0123456789").mintSession("u"));

    assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.reason()).isEqualTo(ErrorReason.API_KEY_INVALID);
    assertThat(e.reasonName()).isEqualTo("API_KEY_INVALID");
    assertThat(e.getMessage()).startsWith("API_KEY_INVALID: ").doesNotContain("sk_not_a_real_key_at_all_0123456789");
  }

  @Test
  void missingScope_isScopeNotGranted() {
    TokenAuthorityException e = refusal(() -> client(ta.createKey("sessions:redeem")).mintSession("u"));

    assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.reason()).isEqualTo(ErrorReason.SCOPE_NOT_GRANTED);
  }

  @Test
  void mintsPastTheTenantsRate_areRateLimitedWithRetryAfter_notRetriedPastTheDeadline() {
    ta.createTenant("acme");
    ta.updateTenant(dev.tokenauthority.v1.Tenant.newBuilder().setId("acme").setMintRatePerMinute(2).build(), "mint_rate_per_minute");
    TokenAuthorityClient backend = client(ta.createKeyIn("acme", "sessions:mint"));
    backend.mintSession("u1");
    backend.mintSession("u2");

    // The server asks for 30 s; the client's deadline is shorter, so it fails at once.
    TokenAuthorityException e = refusal(() -> backend.mintSession("u3"));

    assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
    assertThat(e.retryAfter()).hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(30)));
  }

  @Test
  void ttlTooLong_isInvalidTtlNamingTheField() {
    TokenAuthorityClient backend = client(ta.createKey("sessions:mint"));

    TokenAuthorityException e =
        refusal(() -> backend.mintSession(MintSessionParams.forUser("u").ttl(Duration.ofDays(2)).build()));

    assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_TTL);
    assertThat(e.fieldViolations()).containsOnlyKeys("ttl_seconds");
    assertThat(e.retryAfter()).isEmpty();
  }

  @Test
  void severalBadFields_areAllListed() {
    TokenAuthorityClient admin = client(ta.adminSecret());

    TokenAuthorityException e =
        refusal(() -> admin.createApiKey(CreateApiKeyParams.named("").scopes("NOT A SCOPE").build()));

    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_REQUEST);
    assertThat(e.fieldViolations()).containsKeys("name", "scopes[0]");
    assertThat(e.fieldViolations().values()).allSatisfy(d -> assertThat(d).isNotBlank());
  }

  @Test
  void revokeUnknownKey_isNotFound() {
    TokenAuthorityException e = refusal(() -> client(ta.adminSecret()).revokeApiKey("key_doesNotExist"));

    assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.reason()).isEqualTo(ErrorReason.NOT_FOUND);
  }

  @Test
  void expiredToken_isTokenExpired() {
    TokenAuthorityClient backend = client(ta.createKey("sessions:mint", "sessions:redeem"));
    String token = backend.mintSession("u").token();
    ta.clock().advanceSeconds(301);

    assertThat(refusal(() -> backend.redeem(token)).reason()).isEqualTo(ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void wrongAudience_isAudienceMismatch() {
    TokenAuthorityClient backend = client(ta.createKey("sessions:mint", "sessions:redeem"));
    String token = backend.mintSession(MintSessionParams.forUser("u").audience("roleplay").build()).token();

    TokenAuthorityException e = refusal(() -> backend.redeem(RedeemParams.token(token).audience("billing").build()));

    assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.reason()).isEqualTo(ErrorReason.AUDIENCE_MISMATCH);
  }

  @Test
  void editedToken_isTokenInvalid_andNoTextCarriesTheTokenOrKey() {
    String key = ta.createKey("sessions:mint", "sessions:redeem");
    TokenAuthorityClient backend = client(key);
    String token = backend.mintSession("u").token();
    String edited = token.substring(0, token.length() - 2) + (token.endsWith("A") ? "BB" : "AA");

    TokenAuthorityException e = refusal(() -> backend.redeem(edited));

    assertThat(e.reason()).isEqualTo(ErrorReason.TOKEN_INVALID);
    String everything = e + "\n" + e.serverMessage() + "\n" + e.fieldViolations() + "\n" + e.metadata();
    for (String secret : List.of(key, token, edited)) {
      assertThat(everything).doesNotContain(secret);
    }
  }
}
