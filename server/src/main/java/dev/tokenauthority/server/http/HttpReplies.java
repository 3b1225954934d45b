package dev.tokenauthority.server.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import dev.tokenauthority.server.grpc.HttpErrorEnvelope;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.List;

/**
 * How the HTTP port answers: a success as the response message in proto3 JSON (lowerCamelCase
 * names, every field present), a failure as seed 003's envelope
 * {@code {"error": {"code", "message", "details": [{"path", "message"}]}}} with the HTTP status
 * of its gRPC code (grpc-gateway's table). The metadata interceptors put on a call (the rate
 * limit's {@code x-ratelimit-*} and {@code retry-after}) become HTTP headers; a 401 adds
 * {@code WWW-Authenticate: Bearer}. Every reply is {@code Cache-Control: no-store}: successes
 * carry secrets shown once, tokens and who they stand for (RFC 6749 5.1 asks the same of token
 * responses), so no cache on the way may keep them.
 */
final class HttpReplies {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

  private HttpReplies() {}

  /** The reply to a finished call. */
  static AggregatedHttpResponse of(HttpCall.Result result) {
    if (!result.status().isOk()) {
      return failure(result.status(), result.headers(), result.trailers());
    }
    ResponseHeadersBuilder headers =
        ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON_UTF_8).set(HttpHeaderNames.CACHE_CONTROL, "no-store");
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

  /**
   * A failed call, in the envelope every HTTP-speaking transport shares ({@link HttpErrorEnvelope}):
   * its ErrorInfo reason as the code, its BadRequest as the details, the call's metadata (the rate
   * limit's headers) as HTTP headers.
   */
  static AggregatedHttpResponse failure(Status status, Metadata headers, Metadata trailers) {
    HttpErrorEnvelope envelope = HttpErrorEnvelope.of(StatusProto.fromStatusAndTrailers(status, trailers));
    ResponseHeadersBuilder builder = ResponseHeaders.builder(envelope.status());
    if (headers != null) {
      copy(headers, builder);
    }
    if (trailers != null) {
      copy(trailers, builder);
    }
    envelope.headers().forEach(builder::set);
    return reply(builder, envelope.body());
  }

  /** An envelope with no gRPC call behind it (404, 405, 413, a timeout...). */
  static AggregatedHttpResponse envelope(HttpStatus status, String code, String message) {
    return reply(ResponseHeaders.builder(status), HttpErrorEnvelope.json(code, message, List.of()));
  }

  /**
   * 404 for a path that is no route. Neither this nor {@link #notAllowed} echoes the path: a
   * client that put a key or a token in it would find it in its error logs.
   */
  static AggregatedHttpResponse noRoute() {
    return envelope(HttpStatus.NOT_FOUND, "NOT_FOUND", "no such route (see /openapi.json)");
  }

  /** 405 with the {@code Allow} header RFC 9110 asks for; {@code method} names the refused one. */
  static AggregatedHttpResponse notAllowed(String method, String allowed) {
    AggregatedHttpResponse reply =
        envelope(HttpStatus.METHOD_NOT_ALLOWED, "INVALID_REQUEST", method + " is not allowed on this route; use " + allowed);
    return AggregatedHttpResponse.of(reply.headers().toBuilder().set(HttpHeaderNames.ALLOW, allowed).build(), reply.content());
  }

  private static AggregatedHttpResponse reply(ResponseHeadersBuilder headers, String body) {
    headers.contentType(MediaType.JSON_UTF_8).set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (headers.status().code() == 401) {
      headers.set(HttpHeaderNames.WWW_AUTHENTICATE, HttpErrorEnvelope.BEARER_CHALLENGE);
    }
    return AggregatedHttpResponse.of(headers.build(), HttpData.ofUtf8(body));
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
