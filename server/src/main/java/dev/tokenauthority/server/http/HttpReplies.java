package dev.tokenauthority.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import dev.tokenauthority.server.grpc.ErrorMapper;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.Locale;

/**
 * How the HTTP port answers: a success as the response message in proto3 JSON (lowerCamelCase
 * names, every field present), a failure as seed 003's envelope
 * {@code {"error": {"code", "message", "details": [{"path", "message"}]}}} with the HTTP status
 * of its gRPC code (grpc-gateway's table). The metadata interceptors put on a call (the rate
 * limit's {@code x-ratelimit-*} and {@code retry-after}) become HTTP headers; a 401 adds
 * {@code WWW-Authenticate: Bearer}.
 */
final class HttpReplies {
  static final String BEARER_CHALLENGE = "Bearer realm=\"token-authority\"";
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

  private HttpReplies() {}

  /** The reply to a finished call. */
  static AggregatedHttpResponse of(HttpCall.Result result) {
    if (!result.status().isOk()) {
      return failure(result.status(), result.headers(), result.trailers());
    }
    ResponseHeadersBuilder headers = ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON_UTF_8);
    copy(result.headers(), headers);
    copy(result.trailers(), headers);
    return AggregatedHttpResponse.of(headers.build(), HttpData.ofUtf8(json((Message) result.message())));
  }

  /** A message in proto3 JSON. */
  static String json(Message message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName(), e);
    }
  }

  /** A failed call: its ErrorInfo reason as the code, its BadRequest as the details. */
  static AggregatedHttpResponse failure(Status status, Metadata headers, Metadata trailers) {
    String code = status.getCode().name();
    JsonArray details = new JsonArray();
    com.google.rpc.Status rich = StatusProto.fromStatusAndTrailers(status, trailers);
    for (Any detail : rich.getDetailsList()) {
      try {
        if (detail.is(ErrorInfo.class)) {
          ErrorInfo info = detail.unpack(ErrorInfo.class);
          if (ErrorMapper.DOMAIN.equals(info.getDomain())) {
            code = info.getReason();
          }
        } else if (detail.is(BadRequest.class)) {
          for (BadRequest.FieldViolation v : detail.unpack(BadRequest.class).getFieldViolationsList()) {
            details.add(detail(v.getField(), v.getDescription()));
          }
        }
      } catch (InvalidProtocolBufferException e) {
        // A detail we cannot read adds nothing; the code and message still stand.
      }
    }
    String message = status.getDescription() == null ? code.toLowerCase(Locale.ROOT).replace('_', ' ') : status.getDescription();
    ResponseHeadersBuilder builder = ResponseHeaders.builder(httpStatus(status.getCode()));
    if (headers != null) {
      copy(headers, builder);
    }
    if (trailers != null) {
      copy(trailers, builder);
    }
    return envelope(builder, code, message, details);
  }

  /** An envelope with no gRPC call behind it (404, 405, 413, a timeout...). */
  static AggregatedHttpResponse envelope(HttpStatus status, String code, String message) {
    return envelope(ResponseHeaders.builder(status), code, message, new JsonArray());
  }

  static JsonObject detail(String path, String message) {
    JsonObject d = new JsonObject();
    d.addProperty("path", path);
    d.addProperty("message", message);
    return d;
  }

  private static AggregatedHttpResponse envelope(ResponseHeadersBuilder headers, String code, String message, JsonArray details) {
    JsonObject error = new JsonObject();
    error.addProperty("code", code);
    error.addProperty("message", message);
    error.add("details", details);
    JsonObject body = new JsonObject();
    body.add("error", error);
    headers.contentType(MediaType.JSON_UTF_8).set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (headers.status().code() == 401) {
      headers.set(HttpHeaderNames.WWW_AUTHENTICATE, BEARER_CHALLENGE);
    }
    return AggregatedHttpResponse.of(headers.build(), HttpData.ofUtf8(body.toString()));
  }

  /** The HTTP status of a gRPC code, as grpc-gateway and Google's APIs map it. */
  static HttpStatus httpStatus(Status.Code code) {
    return switch (code) {
      case OK -> HttpStatus.OK;
      case CANCELLED -> HttpStatus.valueOf(499);
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> HttpStatus.BAD_REQUEST;
      case DEADLINE_EXCEEDED -> HttpStatus.GATEWAY_TIMEOUT;
      case NOT_FOUND -> HttpStatus.NOT_FOUND;
      case ALREADY_EXISTS, ABORTED -> HttpStatus.CONFLICT;
      case PERMISSION_DENIED -> HttpStatus.FORBIDDEN;
      case UNAUTHENTICATED -> HttpStatus.UNAUTHORIZED;
      case RESOURCE_EXHAUSTED -> HttpStatus.TOO_MANY_REQUESTS;
      case UNIMPLEMENTED -> HttpStatus.NOT_IMPLEMENTED;
      case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
      case UNKNOWN, INTERNAL, DATA_LOSS -> HttpStatus.INTERNAL_SERVER_ERROR;
    };
  }

  /** Metadata as HTTP headers: plain text entries only, never grpc's own. */
  private static void copy(Metadata metadata, ResponseHeadersBuilder headers) {
    for (String name : metadata.keys()) {
      if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX) || name.startsWith("grpc-") || name.equals("content-type")) {
        continue;
      }
      Iterable<String> values = metadata.getAll(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
      if (values != null) {
        headers.remove(name);
        values.forEach(v -> headers.add(name, v));
      }
    }
  }
}
