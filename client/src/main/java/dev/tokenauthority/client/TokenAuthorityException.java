package dev.tokenauthority.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A call the authority refused, or could not be reached for: the gRPC status code, the
 * {@link ErrorReason} decoded from the {@code google.rpc.ErrorInfo}, the server's message, the
 * invalid fields, and when to try again. Its message never contains the API key or a session
 * token: the client removes both even if a server or proxy were to echo them.
 */
public final class TokenAuthorityException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final String reasonName;
  private final String serverMessage;
  private final transient Map<String, String> fieldViolations;
  private final transient Duration retryAfter;
  private final transient Map<String, String> metadata;

  /**
   * @param code the gRPC status code
   * @param reasonName the ErrorInfo reason as sent, or empty when there was none
   * @param serverMessage the message for people
   * @param fieldViolations invalid field path to what is wrong with it, in the server's order
   * @param retryAfter how long to wait before trying again (RetryInfo), or null
   * @param metadata the ErrorInfo's metadata
   * @param cause the transport failure behind it, if any
   */
  public TokenAuthorityException(
      Status.Code code,
      String reasonName,
      String serverMessage,
      Map<String, String> fieldViolations,
      Duration retryAfter,
      Map<String, String> metadata,
      Throwable cause) {
    super(headline(code, reasonName) + ": " + serverMessage, cause);
    this.code = code;
    this.reasonName = reasonName == null ? "" : reasonName;
    this.serverMessage = serverMessage;
    this.fieldViolations = Collections.unmodifiableMap(new LinkedHashMap<>(fieldViolations));
    this.retryAfter = retryAfter;
    this.metadata = Map.copyOf(metadata);
  }

  private static String headline(Status.Code code, String reasonName) {
    return reasonName == null || reasonName.isEmpty() ? code.name() : reasonName;
  }

  /** The gRPC status code, e.g. {@code UNAUTHENTICATED}. */
  public Status.Code code() {
    return code;
  }

  /** Why the call failed; {@link ErrorReason#UNKNOWN} for a reason this client does not know. */
  public ErrorReason reason() {
    return ErrorReason.of(reasonName);
  }

  /**
   * The reason exactly as the server sent it (also for a reason this client does not know), or
   * empty when the failure carried no ErrorInfo (the server could not be reached, say).
   */
  public String reasonName() {
    return reasonName;
  }

  /** The reason when there is one, otherwise the status code's name: what to show a person. */
  public String headline() {
    return headline(code, reasonName);
  }

  /** The server's message, for people. */
  public String serverMessage() {
    return serverMessage;
  }

  /** Each invalid request field (a proto field path such as {@code ttl_seconds}) and what is wrong with it. */
  public Map<String, String> fieldViolations() {
    return fieldViolations;
  }

  /** How long to wait before trying again, from the server's RetryInfo (on RATE_LIMITED). */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** The ErrorInfo's metadata (never secret). */
  public Map<String, String> metadata() {
    return metadata;
  }
}
