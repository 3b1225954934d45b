package dev.tokenauthority.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns a failed call's gRPC status into a {@link TokenAuthorityException}: the ErrorInfo of
 * domain {@code tokenauthority}, the BadRequest field violations and the RetryInfo delay, with
 * every secret the call knows of (the API key, a token it sent) removed from the text.
 */
final class ErrorDecoder {
  static final String DOMAIN = "tokenauthority";
  private static final String REDACTED = "[redacted]";
  /**
   * Shorter strings are not real secrets (no server would accept them) and are too likely to
   * occur in ordinary words: scrubbing a key "x" would mangle every message.
   */
  static final int MIN_SCRUBBED_LENGTH = 8;
  /** Anything shaped like a compact JWS, in case text echoes a token the call did not send. */
  private static final Pattern COMPACT_JWS = Pattern.compile("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*");

  private ErrorDecoder() {}

  static TokenAuthorityException decode(StatusRuntimeException e, List<String> secrets) {
    Status status = e.getStatus();
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    String reason = "";
    Map<String, String> metadata = Map.of();
    Map<String, String> violations = new LinkedHashMap<>();
    Duration retryAfter = null;
    if (details != null) {
      for (Any any : details.getDetailsList()) {
        try {
          if (any.is(ErrorInfo.class)) {
            ErrorInfo info = any.unpack(ErrorInfo.class);
            if (DOMAIN.equals(info.getDomain())) {
              reason = info.getReason();
              Map<String, String> m = new LinkedHashMap<>();
              info.getMetadataMap().forEach((k, v) -> m.put(k, scrub(v, secrets)));
              metadata = m;
            }
          } else if (any.is(BadRequest.class)) {
            for (BadRequest.FieldViolation v : any.unpack(BadRequest.class).getFieldViolationsList()) {
              violations.merge(v.getField(), scrub(v.getDescription(), secrets), (a, b) -> a + "; " + b);
            }
          } else if (any.is(RetryInfo.class)) {
            com.google.protobuf.Duration d = any.unpack(RetryInfo.class).getRetryDelay();
            retryAfter = Duration.ofSeconds(d.getSeconds(), d.getNanos());
          }
        } catch (InvalidProtocolBufferException ignored) {
          // A detail that does not parse tells us nothing; the status code still does.
        }
      }
    }
    String description = status.getDescription();
    String message = description == null || description.isEmpty() ? status.getCode().name() : scrub(description, secrets);
    return new TokenAuthorityException(
        status.getCode(), reason, message, violations, retryAfter, metadata, transportCause(status, secrets));
  }

  /**
   * A transport failure (connection refused, TLS) explains an UNAVAILABLE, so it is kept as the
   * cause, unless any message in its chain holds a secret: then it is left out entirely.
   */
  private static Throwable transportCause(Status status, List<String> secrets) {
    Throwable cause = status.getCause();
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String text = String.valueOf(t.getMessage());
      if (!scrub(text, secrets).equals(text)) {
        return null;
      }
    }
    return cause;
  }

  static String scrub(String text, List<String> secrets) {
    String out = text;
    for (String secret : secrets) {
      if (secret != null && secret.length() >= MIN_SCRUBBED_LENGTH) {
        out = out.replace(secret, REDACTED);
      }
    }
    return COMPACT_JWS.matcher(out).replaceAll(REDACTED);
  }
}
