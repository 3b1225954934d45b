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
import java.util.concurrent.atomic.AtomicReference;

/**
 * Puts the caller's rate limit on every response of an RPC {@link MethodTable} marks
 * {@link RpcMethod#rateLimitHeaders} (MintSession): {@code x-ratelimit-limit},
 * {@code x-ratelimit-remaining} and {@code x-ratelimit-reset} (Unix seconds) in the headers of
 * a success, or the trailers of a refusal, plus {@code retry-after} (seconds) when limited. The
 * service records the decision in the holder this interceptor puts in the call's context. A
 * refusal by a limit on any method (QUOTA_EXCEEDED of Redeem too) has them in its trailers from
 * {@link ErrorMapper}, as the HTTP port has them from the same details ({@link HttpErrorEnvelope}).
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
            // A refusal by a limit (a rate, a quota) carries its own in its trailers (ErrorMapper);
            // any other failure carries the allowance the service recorded.
            if (!sent && !trailers.containsKey(LIMIT)) {
              add(trailers, decision.get());
            }
            super.close(status, trailers);
          }
        };
    return Contexts.interceptCall(Context.current().withValue(DECISION, decision), withHeaders, headers, next);
  }

  private static boolean add(Metadata m, RateLimiter.Decision d) {
    if (d == null) {
      return false;
    }
    replace(m, LIMIT, String.valueOf(d.limit()));
    replace(m, REMAINING, String.valueOf(d.remaining()));
    replace(m, RESET, String.valueOf(d.resetEpochSeconds()));
    if (!d.allowed()) {
      replace(m, RETRY_AFTER, String.valueOf(d.retryAfterSeconds()));
    }
    return true;
  }

  /** One value per header: the refusal's trailers may carry it already. */
  private static void replace(Metadata m, Metadata.Key<String> key, String value) {
    m.discardAll(key);
    m.put(key, value);
  }
}
