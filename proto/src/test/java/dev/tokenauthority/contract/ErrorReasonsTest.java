package dev.tokenauthority.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.v1.ErrorReason;
import org.junit.jupiter.api.Test;

/** Wire names of the proto reasons: the contract's names, without the proto prefix. */
class ErrorReasonsTest {

  @Test
  void wireName_stripsThePrefix_andFromWireNameGivesTheReasonBack() {
    for (ErrorReason r : ErrorReason.values()) {
      if (r == ErrorReason.ERROR_REASON_UNSPECIFIED || r == ErrorReason.UNRECOGNIZED) {
        continue;
      }
      assertThat(ErrorReasons.wireName(r)).doesNotStartWith("ERROR_REASON_");
      assertThat(ErrorReasons.fromWireName(ErrorReasons.wireName(r))).contains(r);
    }
    assertThat(ErrorReasons.wireName(ErrorReason.ERROR_REASON_TOKEN_ALREADY_USED)).isEqualTo("TOKEN_ALREADY_USED");
  }

  @Test
  void wireName_ofUnspecified_isRefused_andNoWireNameGivesIt() {
    assertThatThrownBy(() -> ErrorReasons.wireName(ErrorReason.ERROR_REASON_UNSPECIFIED)).isInstanceOf(IllegalArgumentException.class);
    assertThat(ErrorReasons.fromWireName("UNSPECIFIED")).isEmpty();
    assertThat(ErrorReasons.fromWireName("ERROR_REASON_TOKEN_EXPIRED")).isEmpty();
    assertThat(ErrorReasons.fromWireName("NEWER_REASON")).isEmpty();
  }
}
