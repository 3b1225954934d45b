package dev.tokenauthority.contract;

import dev.tokenauthority.v1.ErrorReason;
import java.util.Optional;

/**
 * The names of {@link ErrorReason} on the wire: {@code google.rpc.ErrorInfo.reason} carries a
 * value's name without its {@code ERROR_REASON_} prefix (the proto style asks for the prefix,
 * the contract's names have none). The one place that adds or strips it.
 */
public final class ErrorReasons {
  static final String PREFIX = "ERROR_REASON_";

  private ErrorReasons() {}

  /**
   * The wire name of {@code reason}, e.g. {@code TOKEN_ALREADY_USED}.
   *
   * @throws IllegalArgumentException for UNSPECIFIED or UNRECOGNIZED, which are never sent
   */
  public static String wireName(ErrorReason reason) {
    if (reason == ErrorReason.ERROR_REASON_UNSPECIFIED || reason == ErrorReason.UNRECOGNIZED) {
      throw new IllegalArgumentException(reason + " is never sent");
    }
    return reason.name().substring(PREFIX.length());
  }

  /** The reason a wire name stands for; empty for a name this version does not know (or UNSPECIFIED). */
  public static Optional<ErrorReason> fromWireName(String name) {
    if (name == null || name.isEmpty() || name.equals("UNSPECIFIED")) {
      return Optional.empty();
    }
    try {
      return Optional.of(ErrorReason.valueOf(PREFIX + name));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
