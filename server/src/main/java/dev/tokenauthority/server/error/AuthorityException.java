package dev.tokenauthority.server.error;

import dev.tokenauthority.server.ratelimit.RateLimiter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
  private final transient RateLimiter.Decision rateLimit;

  private AuthorityException(
      ErrorReason reason,
      String message,
      List<FieldViolation> violations,
      Map<String, String> metadata,
      Duration retryAfter,
      RateLimiter.Decision rateLimit,
      Throwable cause) {
    super(message, cause, false, cause != null);
    this.reason = reason;
    this.violations = List.copyOf(violations);
    this.metadata = Map.copyOf(metadata);
    this.retryAfter = retryAfter;
    this.rateLimit = rateLimit;
  }

  public static AuthorityException of(ErrorReason reason, String message) {
    return new AuthorityException(reason, message, List.of(), Map.of(), null, null, null);
  }

  public static AuthorityException of(ErrorReason reason, String message, Throwable cause) {
    return new AuthorityException(reason, message, List.of(), Map.of(), null, null, cause);
  }

  /** An INVALID_REQUEST (or INVALID_TTL) naming the offending fields. */
  public static AuthorityException invalid(ErrorReason reason, List<FieldViolation> violations) {
    String message =
        violations.size() == 1
            ? violations.get(0).field() + ": " + violations.get(0).description()
            : "invalid request: " + violations.size() + " fields are invalid";
    return new AuthorityException(reason, message, violations, Map.of(), null, null, null);
  }

  public static AuthorityException invalidField(String field, String description) {
    return invalid(ErrorReason.INVALID_REQUEST, List.of(new FieldViolation(field, description)));
  }

  /**
   * A RESOURCE_EXHAUSTED refusal by a limit (RATE_LIMITED, QUOTA_EXCEEDED) carrying its decision,
   * from which the transport writes the ErrorInfo metadata ({@code limit}, {@code remaining},
   * {@code reset}), the retry delay and the rate-limit headers.
   *
   * @param metadata ErrorInfo metadata beside the decision's: at least {@code subject}, what was
   *     limited, as QuotaFailure names it too ({@code mints}, {@code tenant:acme})
   */
  public static AuthorityException limited(
      ErrorReason reason, String message, Map<String, String> metadata, RateLimiter.Decision decision) {
    return new AuthorityException(reason, message, List.of(), metadata, decision.retryAfter(), decision, null);
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

  /** The limiter's decision of a RATE_LIMITED refusal. */
  public Optional<RateLimiter.Decision> rateLimit() {
    return Optional.ofNullable(rateLimit);
  }

  /** When the caller may retry, for rate limits; null otherwise. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
