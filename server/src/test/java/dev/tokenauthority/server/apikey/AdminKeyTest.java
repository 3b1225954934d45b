package dev.tokenauthority.server.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin key an operator configures through TOKEN_AUTHORITY_ADMIN_KEY. */
class AdminKeyTest {
  private final Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), Clock.systemUTC());

  @Test
  void configuredSecretWithOurPrefixButOwnLength_authenticatesAsAdmin() {
    String secret = "sk_live_" + "x".repeat(40);

    authority.ensureAdminKey(Optional.of(secret));

    assertThat(authority.apiKeys().authenticate(secret).isAdmin()).isTrue();
  }

  @Test
  void configuredSecretOfGeneratedShapeWithWrongChecksum_isRefusedAtStart() {
    String generated = new ApiKeySecrets("sk_").generate();
    char last = generated.charAt(generated.length() - 1);
    String typo = generated.substring(0, generated.length() - 1) + (last == 'a' ? 'b' : 'a');

    assertThatThrownBy(() -> authority.ensureAdminKey(Optional.of(typo)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("checksum")
        .hasMessageNotContaining(typo);
  }

  @ParameterizedTest
  @ValueSource(strings = {"admin-secret-0123456789abcdefghijklmnop\n", " admin-secret-0123456789abcdefghijklmnop",
      "admin-secret-0123456789\nabcdefghijklmnop", "admin-secret-0123456789-äbcdefghijklmnop"})
  void configuredSecretNoHeaderCanCarry_isRefusedAtStart_withoutEchoingIt(String secret) {
    assertThatThrownBy(() -> authority.ensureAdminKey(Optional.of(secret)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("printable ASCII")
        .hasMessageNotContaining("0123456789");
  }

  @Test
  void configuredSecretOfAnExistingNonAdminKey_isRefusedAtStart_namingThatKey() {
    // The operator would believe it the admin key; it would authenticate as the weaker key.
    Caller admin = authority.apiKeys().authenticate(authority.ensureAdminKey(Optional.empty()).orElseThrow());
    ApiKeyService.CreatedKey minter = authority.apiKeys().create(
        admin, new ApiKeyService.NewKey("", "minter", null, List.of("sessions:mint"), List.of()));

    assertThatThrownBy(() -> authority.ensureAdminKey(Optional.of(minter.secret())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(minter.key().id())
        .hasMessageContaining("not an admin key")
        .hasMessageNotContaining(minter.secret());
    assertThat(authority.apiKeys().authenticate(minter.secret()).isAdmin()).isFalse();
  }

  @Test
  void generatedShapeWithWrongChecksum_isRefusedWithoutStoreLookup() {
    String generated = new ApiKeySecrets("sk_").generate();
    String typo = generated.substring(0, generated.length() - 1) + (generated.endsWith("a") ? "b" : "a");

    assertThatThrownBy(() -> authority.apiKeys().authenticate(typo))
        .hasMessage("the API key is not valid");
  }

  @Test
  void restartWithoutConfiguredSecret_whenEveryAdminKeyIsRevokedOrExpired_generatesOne() {
    TestClock clock = new TestClock();
    Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), clock);
    String first = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    Caller admin = authority.apiKeys().authenticate(first);
    // A second admin key that expires in an hour revokes the first...
    ApiKeyService.CreatedKey expiring = authority.apiKeys().create(
        admin, new ApiKeyService.NewKey("", "break-glass", clock.instant().plus(Duration.ofHours(1)), List.of("admin"), List.of()));
    authority.apiKeys().revoke(authority.apiKeys().authenticate(expiring.secret()), admin.apiKeyId());
    assertThat(authority.ensureAdminKey(Optional.empty())).as("an admin key still works").isEmpty();

    // ...and expires: no admin key authenticates any more.
    clock.advance(Duration.ofHours(2));
    String generated = authority.ensureAdminKey(Optional.empty()).orElseThrow();

    assertThat(authority.apiKeys().authenticate(generated).isAdmin()).isTrue();
  }
}
