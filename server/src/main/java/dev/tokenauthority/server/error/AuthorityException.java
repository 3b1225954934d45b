package dev.tokenauthority.server.error;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The one exception the domain throws for an expected failure. It carries a reason from
 * {@link ErrorReason}, a message for people (never a secret), and optional details that
 * the gRPC edge turns into {@code google.rpc} error details.
 */
public final class AuthorityException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorReason reason;
  private final transient List<FieldViolation> violations;
  private final transient Map<String, String> metadata;
  private final transient Duration retryAfter;

  private AuthorityException(
      ErrorReason reason,
      String message,
      List<FieldViolation> violations,
      Map<String, String> metadata,
      Duration retryAfter,
      Throwable cause) {
    super(message, cause, false, cause != null);
    this.reason = reason;
    this.violations = List.copyOf(violations);
    this.metadata = Map.copyOf(metadata);
    this.retryAfter = retryAfter;
  }

  public static AuthorityException of(ErrorReason reason, String message) {
    return new AuthorityException(reason, message, List.of(), Map.of(), null, null);
  }

  public static AuthorityException of(ErrorReason reason, String message, Throwable cause) {
    return new AuthorityException(reason, message, List.of(), Map.of(), null, cause);
  }

  /** An INVALID_REQUEST (or INVALID_TTL) naming the offending fields. */
  public static AuthorityException invalid(ErrorReason reason, List<FieldViolation> violations) {
    String message =
        violations.size() == 1
            ? violations.get(0).field() + ": " + violations.get(0).description()
            : "invalid request: " + violations.size() + " fields are invalid";
    return new AuthorityException(reason, message, violations, Map.of(), null, null);
  }

  public static AuthorityException invalidField(String field, String description) {
    return invalid(ErrorReason.INVALID_REQUEST, List.of(new FieldViolation(field, description)));
  }

  /** A RESOURCE_EXHAUSTED refusal that tells the caller when to try again. */
  public static AuthorityException limited(
      ErrorReason reason, String message, Duration retryAfter, Map<String, String> metadata) {
    return new AuthorityException(reason, message, List.of(), metadata, retryAfter, null);
  }

  public ErrorReason reason() {
    return reason;
  }

  public List<FieldViolation> violations() {
    return violations;
  }

  /** Extra ErrorInfo metadata (never secret). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** When the caller may retry, for rate limits; null otherwise. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
