package dev.tokenauthority.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The one duration grammar of the server's settings and the CLI's options. */
class DurationsTest {

  @ParameterizedTest
  @CsvSource({"500ms, PT0.5S", "20s, PT20S", "5m, PT5M", "12h, PT12H", "30d, PT720H", "PT20S, PT20S", "pt2m, PT2M", "P1D, PT24H", " 2M , PT2M"})
  void parse_withAUnitOrIso_isThatDuration(String text, String iso) {
    assertThat(Durations.parse(text)).contains(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(strings = {"5", "", "soon", "5 s", "-5s", "5w", "1.5h", "ms", "99999999999999999999s"})
  void parse_withoutAUnitOrNotADuration_isEmpty(String text) {
    assertThat(Durations.parse(text)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({"300, PT300S", "90s, PT90S", "2d, PT48H"})
  void parseOrSeconds_aBareNumber_isSeconds(String text, String iso) {
    assertThat(Durations.parseOrSeconds(text)).contains(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-300", "soon", "99999999999999999999"})
  void parseOrSeconds_notADuration_isEmpty(String text) {
    assertThat(Durations.parseOrSeconds(text)).isEmpty();
  }
}
