package dev.tokenauthority.server.grpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A failure as HTTP sees it, for every transport that answers in HTTP (HTTP/JSON, Envoy's
 * ext_authz): the status code of the gRPC code (grpc-gateway's table), seed 003's JSON
 * envelope {@code {"error": {"code": "<reason>", "message": "...", "details": [{"path",
 * "message"}]}}}, and the headers that go with it. Built from the same {@code google.rpc.Status}
 * the gRPC transport sends ({@link ErrorMapper}), so the transports cannot disagree.
 *
 * @param status the HTTP status code
 * @param body the JSON envelope
 * @param headers lowercase header names to values, in a stable order: {@code content-type},
 *     {@code www-authenticate} on 401, on a limit {@code x-ratelimit-limit},
 *     {@code x-ratelimit-remaining} and {@code x-ratelimit-reset}, {@code x-commit-state: unknown}
 *     when the ErrorInfo says a write may have committed, and {@code retry-after}
 */
public record HttpErrorEnvelope(int status, String body, Map<String, String> headers) {
  /** The challenge a 401 carries in {@code WWW-Authenticate}. */
  public static final String BEARER_CHALLENGE = "Bearer realm=\"token-authority\"";
  private static final JsonFactory JSON = new JsonFactory();

  /** The envelope of a {@code google.rpc.Status} as {@link ErrorMapper} builds it. */
  public static HttpErrorEnvelope of(com.google.rpc.Status status) {
    ErrorInfo info = null;
    List<BadRequest.FieldViolation> violations = new ArrayList<>();
    RetryInfo retry = null;
    for (Any detail : status.getDetailsList()) {
      try {
        if (detail.is(ErrorInfo.class) && info == null) {
          info = detail.unpack(ErrorInfo.class);
        } else if (detail.is(BadRequest.class)) {
          violations.addAll(detail.unpack(BadRequest.class).getFieldViolationsList());
        } else if (detail.is(RetryInfo.class)) {
          retry = detail.unpack(RetryInfo.class);
        }
      } catch (InvalidProtocolBufferException e) {
        // Our own details always parse; a detail that does not is left out of the envelope.
      }
    }
    int http = httpStatus(status.getCode());
    String code = info != null && ErrorMapper.DOMAIN.equals(info.getDomain())
        ? info.getReason()
        : Code.forNumber(status.getCode()) == null ? "UNKNOWN" : Code.forNumber(status.getCode()).name();
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("content-type", "application/json");
    if (http == 401) {
      headers.put("www-authenticate", BEARER_CHALLENGE);
    }
    if (info != null && info.containsMetadata("limit")) {
      headers.put(RateLimitHeaders.LIMIT.name(), info.getMetadataOrThrow("limit"));
      headers.put(RateLimitHeaders.REMAINING.name(), info.getMetadataOrDefault("remaining", "0"));
      headers.put(RateLimitHeaders.RESET.name(), info.getMetadataOrDefault("reset", "0"));
    }
    if (info != null && info.containsMetadata(ErrorMapper.COMMIT_STATE)) {
      // What tells a client never to retry blindly, as gRPC's ErrorInfo metadata does.
      headers.put("x-commit-state", info.getMetadataOrThrow(ErrorMapper.COMMIT_STATE));
    }
    if (retry != null) {
      Duration wait = Duration.ofSeconds(retry.getRetryDelay().getSeconds(), retry.getRetryDelay().getNanos());
      headers.put(RateLimitHeaders.RETRY_AFTER.name(), String.valueOf(RateLimiter.Decision.retryAfterSeconds(wait)));
    }
    String message = status.getMessage().isEmpty() ? code.toLowerCase(Locale.ROOT).replace('_', ' ') : status.getMessage();
    return new HttpErrorEnvelope(http, json(code, message, violations), Collections.unmodifiableMap(headers));
  }

  /** The HTTP status of a gRPC code (grpc-gateway's {@code HTTPStatusFromCode}). */
  public static int httpStatus(int grpcCode) {
    Code code = Code.forNumber(grpcCode);
    if (code == null) {
      return 500;
    }
    return switch (code) {
      case OK -> 200;
      case CANCELLED -> 499;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      default -> 500;
    };
  }

  /** The envelope's JSON for a failure with no gRPC status behind it (an unknown route, a body too large). */
  public static String json(String code, String message, List<BadRequest.FieldViolation> violations) {
    StringWriter out = new StringWriter();
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeObjectFieldStart("error");
      json.writeStringField("code", code);
      json.writeStringField("message", message);
      json.writeArrayFieldStart("details");
      for (BadRequest.FieldViolation v : violations) {
        json.writeStartObject();
        json.writeStringField("path", v.getField());
        json.writeStringField("message", v.getDescription());
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeEndObject();
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
