package dev.tokenauthority.server.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The server's reasons against the proto enum that defines them. */
class ErrorReasonTest {

  @Test
  void everyProtoReason_isAServerReasonWithAStatusKind() {
    assertThat(ErrorReason.values()).extracting(ErrorReason::proto)
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(dev.tokenauthority.v1.ErrorReason.values())
                .filter(r -> r != dev.tokenauthority.v1.ErrorReason.ERROR_REASON_UNSPECIFIED
                    && r != dev.tokenauthority.v1.ErrorReason.UNRECOGNIZED)
                .toList());
  }

  @Test
  void wireName_isTheContractsNameWithoutThePrefix() {
    assertThat(ErrorReason.TOKEN_ALREADY_USED.wireName()).isEqualTo("TOKEN_ALREADY_USED");
    assertThat(ErrorReason.INTERNAL.wireName()).isEqualTo("INTERNAL");
    assertThat(ErrorReason.values()).allSatisfy(r -> assertThat(r.wireName()).isEqualTo(r.name()));
  }
}
