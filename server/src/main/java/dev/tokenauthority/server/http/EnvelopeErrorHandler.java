package dev.tokenauthority.server.http;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ShuttingDownException;
import com.linecorp.armeria.common.stream.ClosedStreamException;
import com.linecorp.armeria.server.HttpStatusException;
import com.linecorp.armeria.server.RequestTimeoutException;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.grpc.ErrorMapper;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every answer the HTTP server itself gives (a body too large, a request too slow, a malformed
 * request line, an exception nobody expected) in the error envelope: never an HTML page, never
 * a stack trace. An unexpected exception goes to the log with a reference the client is given;
 * a client that went away is not one.
 */
final class EnvelopeErrorHandler implements com.linecorp.armeria.server.ServerErrorHandler {
  private static final Logger log = LoggerFactory.getLogger(EnvelopeErrorHandler.class);

  /** The methods a path allows, as an {@code Allow} value, or null when it is no route (HttpGateway). */
  private final java.util.function.Function<String, String> allowedMethods;
  /** Calls cancelled because the shutdown grace ran out: the stop says how many, once. */
  private final java.util.concurrent.atomic.AtomicInteger cutOffAtShutdown = new java.util.concurrent.atomic.AtomicInteger();

  EnvelopeErrorHandler() {
    this(path -> null);
  }

  EnvelopeErrorHandler(java.util.function.Function<String, String> allowedMethods) {
    this.allowedMethods = allowedMethods;
  }

  @Override
  public HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
    Throwable t = Completions.unwrap(cause);
    if (t instanceof ContentTooLargeException) {
      return tooLarge().toHttpResponse();
    }
    if (t instanceof RequestTimeoutException) {
      boolean received = receivedWhole(ctx);
      if (!received) {
        closeAfterReply(ctx);
      }
      return timeout(received, ctx.method()).toHttpResponse();
    }
    if (t instanceof HttpStatusException e) {
      return forStatus(e.httpStatus(), ctx.path()).toHttpResponse();
    }
    if (t instanceof ClosedStreamException) {
      // The client reset its stream or its connection closed (ClosedSessionException): its call
      // is cancelled (HttpCall) and nothing can reach it. Not a server fault: one DEBUG line. A
      // failure of the connection itself is logged where it happens (Armeria's handlers).
      log.debug("the HTTP client went away: {}", t.toString());
      return HttpReplies.failure(Status.CANCELLED.withDescription("the HTTP client went away"), null, null).toHttpResponse();
    }
    if (causedBy(t, ShuttingDownException.class)) {
      // A call still running when the shutdown grace ran out, cancelled as over gRPC. Not a
      // server fault (it was INTERNAL, with an ERROR line); but its write may have committed.
      log.debug("an HTTP call was still running when the server stopped: {}", ctx.path());
      cutOffAtShutdown.incrementAndGet();
      return HttpReplies.envelope(HttpStatus.SERVICE_UNAVAILABLE, "UNAVAILABLE",
          "the server stopped before this call finished; it may have taken effect (a redeem its use):"
              + " check before repeating it").toHttpResponse();
    }
    var status = ErrorMapper.toStatusException(t);
    return HttpReplies.failure(status.getStatus(), null, status.getTrailers()).toHttpResponse();
  }

  /** How many calls were cancelled because the shutdown grace ran out. */
  int cutOffAtShutdown() {
    return cutOffAtShutdown.get();
  }

  /** Whether {@code type} is {@code t} or one of its causes: Armeria may wrap its shutdown in another failure. */
  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public AggregatedHttpResponse onProtocolViolation(
      ServiceConfig config, RequestHeaders headers, HttpStatus status, String description, Throwable cause) {
    // No headers at all for a request line or header block that did not parse.
    return forStatus(status, headers == null ? null : headers.path());
  }

  @Override
  public AggregatedHttpResponse renderStatus(
      ServiceRequestContext ctx, ServiceConfig config, RequestHeaders headers, HttpStatus status, String description, Throwable cause) {
    if (cause instanceof RequestTimeoutException && ctx != null) {
      boolean received = receivedWhole(ctx);
      if (!received) {
        closeAfterReply(ctx);
      }
      return timeout(received, ctx.method());
    }
    return forStatus(status, headers == null ? null : headers.path());
  }

  /** The envelope of Armeria's own refusal of a request for {@code path} (its query included, or null). */
  private AggregatedHttpResponse forStatus(HttpStatus status, String path) {
    if (status.code() == 405 && path != null) {
      // Armeria's 405 for a method it does not know (PROPFIND), on any path. RFC 9110 wants
      // Allow on a 405; a path that is no route is 404, as it would be with a known method.
      int query = path.indexOf('?');
      String allowed = allowedMethods.apply(query < 0 ? path : path.substring(0, query));
      return allowed == null ? HttpReplies.noRoute() : HttpReplies.notAllowed("this method", allowed);
    }
    return switch (status.code()) {
      case 413 -> tooLarge();
      case 408 -> timeout(false, null);
      case 404 -> HttpReplies.noRoute();
      case 503 -> HttpReplies.envelope(status, "UNAVAILABLE", "the server is not serving; retry later");
      default -> status.code() < 500
          ? HttpReplies.envelope(status, "INVALID_REQUEST", "bad request: " + status.reasonPhrase())
          : HttpReplies.envelope(status, "INTERNAL", "internal error");
    };
  }

  private static AggregatedHttpResponse tooLarge() {
    return HttpReplies.envelope(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "INVALID_REQUEST",
        "the body is larger than " + HttpGateway.MAX_BODY_BYTES + " bytes");
  }

  /**
   * Whether the whole request had arrived. A request still arriving, or one that Armeria aborted
   * because it did not arrive in time (what it does while it collects a unary service's body),
   * had not.
   */
  private static boolean receivedWhole(ServiceRequestContext ctx) {
    CompletableFuture<Void> ended = ctx.request().whenComplete();
    return ended.isDone() && !ended.isCompletedExceptionally();
  }

  /**
   * A request that did not arrive in time, on HTTP/1.1: the rest of its body would be read as the
   * start of the next request, so the connection is closed after the 408 ({@code Connection:
   * close}, as RFC 9110 asks of a 408). On HTTP/2 the stream ends alone.
   */
  private static void closeAfterReply(ServiceRequestContext ctx) {
    if (!ctx.sessionProtocol().isMultiplex()) {
      ctx.initiateConnectionShutdown();
    }
  }

  /**
   * 408 when the request did not arrive in time; 504 when the call did not finish in time, which
   * for a write (any method but GET and HEAD) says, as {@code x-commit-state: unknown}, that it may
   * still have taken effect: a redeem its use, a mint its session.
   */
  private static AggregatedHttpResponse timeout(boolean requestReceived, HttpMethod method) {
    if (!requestReceived) {
      return HttpReplies.envelope(HttpStatus.REQUEST_TIMEOUT, "DEADLINE_EXCEEDED", "the request did not arrive in time");
    }
    if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
      return HttpReplies.envelope(HttpStatus.GATEWAY_TIMEOUT, "DEADLINE_EXCEEDED", "the call did not finish in time");
    }
    AggregatedHttpResponse reply = HttpReplies.envelope(HttpStatus.GATEWAY_TIMEOUT, "DEADLINE_EXCEEDED",
        "the call did not finish in time; it may have taken effect (a redeem its use): check before repeating it");
    return AggregatedHttpResponse.of(reply.headers().toBuilder().set("x-commit-state", "unknown").build(), reply.content());
  }
}
