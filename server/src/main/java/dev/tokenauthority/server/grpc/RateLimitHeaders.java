package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.rpc.RpcMethod;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Puts the caller's rate limit on every response of an RPC {@link MethodTable} marks
 * {@link RpcMethod#rateLimitHeaders} (MintSession): {@code x-ratelimit-limit},
 * {@code x-ratelimit-remaining} and {@code x-ratelimit-reset} (Unix seconds) in the headers of
 * a success, or the trailers of a refusal, plus {@code retry-after} (seconds) when limited. The
 * service records the decision in the holder this interceptor puts in the call's context; a
 * limit refused before any decision (QUOTA_EXCEEDED) sends the limit its ErrorInfo names, as the
 * HTTP port does ({@link HttpErrorEnvelope}).
 */
public final class RateLimitHeaders implements ServerInterceptor {
  static final Metadata.Key<String> LIMIT = Metadata.Key.of("x-ratelimit-limit", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> REMAINING = Metadata.Key.of("x-ratelimit-remaining", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> RESET = Metadata.Key.of("x-ratelimit-reset", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<AtomicReference<RateLimiter.Decision>> DECISION = Context.key("tokenauthority-rate-limit");

  /** The holder of the current call, for the service to fill; null for an RPC without rate-limit headers. */
  static AtomicReference<RateLimiter.Decision> holder() {
    return DECISION.get();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (!MethodTable.find(call.getMethodDescriptor().getFullMethodName()).map(RpcMethod::rateLimitHeaders).orElse(false)) {
      return next.startCall(call, headers);
    }
    AtomicReference<RateLimiter.Decision> decision = new AtomicReference<>();
    ServerCall<ReqT, RespT> withHeaders =
        new SimpleForwardingServerCall<>(call) {
          private boolean sent;

          @Override
          public void sendHeaders(Metadata responseHeaders) {
            sent = add(responseHeaders, decision.get());
            super.sendHeaders(responseHeaders);
          }

          @Override
          public void close(Status status, Metadata trailers) {
            if (!sent && !add(trailers, decision.get()) && status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
              // Refused before a rate decision (the monthly quota): the limit the ErrorInfo names,
              // as the HTTP port sends it from the same details, so the transports agree.
              addFromDetails(trailers, status);
            }
            super.close(status, trailers);
          }
        };
    return Contexts.interceptCall(Context.current().withValue(DECISION, decision), withHeaders, headers, next);
  }

  private static void addFromDetails(Metadata trailers, Status status) {
    com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(status, trailers);
    if (details == null) {
      return;
    }
    Map<String, String> headers = HttpErrorEnvelope.of(details).headers();
    for (Metadata.Key<String> key : List.of(LIMIT, REMAINING, RESET, RETRY_AFTER)) {
      String value = headers.get(key.name());
      if (value != null) {
        trailers.put(key, value);
      }
    }
  }

  private static boolean add(Metadata m, RateLimiter.Decision d) {
    if (d == null) {
      return false;
    }
    m.put(LIMIT, String.valueOf(d.limit()));
    m.put(REMAINING, String.valueOf(d.remaining()));
    m.put(RESET, String.valueOf(d.resetEpochSeconds()));
    if (!d.allowed()) {
      m.put(RETRY_AFTER, String.valueOf(d.retryAfterSeconds()));
    }
    return true;
  }
}
