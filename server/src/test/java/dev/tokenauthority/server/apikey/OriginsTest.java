package dev.tokenauthority.server.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.FieldViolation;
import dev.tokenauthority.server.error.Violations;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Origins as keys allow them and tokens are bound to them. */
class OriginsTest {

  @ParameterizedTest
  @CsvSource({
    "https://app.example, https://app.example",
    "HTTPS://App.Example, https://app.example",
    "https://app.example:443, https://app.example",
    "http://app.example:80, http://app.example",
    "http://app.example:8080, http://app.example:8080",
    "https://[::1]:8443, https://[::1]:8443",
    // IPv6 literals as a browser serialises them (RFC 5952): zeros compressed, lowercase.
    "http://[0:0:0:0:0:0:0:1]:3000, http://[::1]:3000",
    "https://[2001:DB8:0:0:0:0:0:1], https://[2001:db8::1]",
    "https://[2001:db8:0:0:1:0:0:1]:443, https://[2001:db8::1:0:0:1]",
    "http://[::ffff:127.0.0.1]:8080, http://[::ffff:7f00:1]:8080",
    "http://[::FFFF:7F00:1], http://[::ffff:7f00:1]"
  })
  void normalise_serialisedOrigin_isLowercaseWithoutDefaultPort(String given, String normalised) {
    assertThat(Origins.normalise(given)).contains(normalised);
  }

  @Test
  void aKeyOrSessionStoredBeforeIpv6Normalisation_stillMatchesWhatBrowsersSend() {
    // Stored as written by the release before: the long form.
    Caller caller = new Caller("key_1", "default", List.of("sessions:mint"), List.of("http://[0:0:0:0:0:0:0:1]:8080"), null);

    assertThat(caller.allowsOrigin("http://[::1]:8080")).isTrue();
    assertThat(caller.allowedOrigins()).containsExactly("http://[::1]:8080");
    assertThat(Origins.matchesBinding("http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080")).isTrue();
    assertThat(Origins.matchesBinding("http://[0:0:0:0:0:0:0:1]:8080", "http://[::2]:8080")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "app.example", "ftp://app.example", "https://app.example/", "https://app.example/path",
    "https://app.example?q=1", "https://app.example#x", "https://user@app.example", "https://",
    "https://app.example:99999", "https://app.example:65536", "https://app.example:0",
    "https://[fe80::1%25eth0]", "https://[1:2:3]"
  })
  void normalise_notAnOrigin_isEmpty(String given) {
    assertThat(Origins.normalise(given)).isEmpty();
  }

  @Test
  void normalise_longerThanTheLimit_isEmpty() {
    assertThat(Origins.normalise("https://" + "a".repeat(Origins.MAX_LENGTH) + ".example")).isEmpty();
  }

  @Test
  void validateAll_badAndDuplicateOrigins_namesTheBadOneByIndexAndKeepsOneOfEach() {
    Violations v = new Violations();

    List<String> kept = Origins.validateAll(List.of("https://a.example", "HTTPS://A.example", "nope"), "allowed_origins", v);

    assertThat(kept).containsExactly("https://a.example");
    assertThat(violationFields(v)).containsExactly("allowed_origins[2]");
  }

  @Test
  void validateAll_moreThanTheLimit_isAViolation() {
    Violations v = new Violations();
    List<String> many = java.util.stream.IntStream.range(0, Origins.MAX_PER_KEY + 1)
        .mapToObj(i -> "https://o" + i + ".example").toList();

    Origins.validateAll(many, "allowed_origins", v);

    assertThat(violationFields(v)).containsExactly("allowed_origins");
  }

  @Test
  void matchesBinding_unboundToken_acceptsAnyOrigin_boundOneOnlyItsOwn() {
    assertThat(Origins.matchesBinding("", "")).isTrue();
    assertThat(Origins.matchesBinding("", "https://any.example")).isTrue();
    assertThat(Origins.matchesBinding("https://app.example", "HTTPS://app.example:443")).isTrue();
    assertThat(Origins.matchesBinding("https://app.example", "https://other.example")).isFalse();
    assertThat(Origins.matchesBinding("https://app.example", "")).isFalse();
  }

  private static List<String> violationFields(Violations v) {
    try {
      v.throwIfAny();
      return List.of();
    } catch (AuthorityException e) {
      return e.violations().stream().map(FieldViolation::field).toList();
    }
  }
}
