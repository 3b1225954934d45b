package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.contract.ErrorReasons;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The client's reasons against the proto enum the server sends from. */
class ErrorReasonTest {

  @Test
  void everyReasonTheProtoDefines_hasAClientConstantOfTheSameName() {
    Arrays.stream(dev.tokenauthority.v1.ErrorReason.values())
        .filter(r -> r != dev.tokenauthority.v1.ErrorReason.ERROR_REASON_UNSPECIFIED
            && r != dev.tokenauthority.v1.ErrorReason.UNRECOGNIZED)
        .forEach(r -> assertThat(ErrorReason.of(ErrorReasons.wireName(r)).name()).isEqualTo(ErrorReasons.wireName(r)));
  }

  @Test
  void of_aNameOfANewerServer_isUnknown() {
    assertThat(ErrorReason.of("SOMETHING_NEW")).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(ErrorReason.of("")).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(ErrorReason.of(null)).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(ErrorReason.of("UNSPECIFIED")).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(ErrorReason.of("ERROR_REASON_TOKEN_EXPIRED")).isEqualTo(ErrorReason.UNKNOWN);
  }

  @Test
  void of_theContractsNames_areTheirConstants() {
    assertThat(ErrorReason.of("TOKEN_ALREADY_USED")).isEqualTo(ErrorReason.TOKEN_ALREADY_USED);
    assertThat(ErrorReason.of("INTERNAL")).isEqualTo(ErrorReason.INTERNAL);
  }
}
