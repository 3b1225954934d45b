package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.rpc.RpcMethod;
import dev.tokenauthority.v1.MintSessionRequest;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Puts the caller's rate limit on every response of an RPC {@link MethodTable} marks
 * {@link RpcMethod#rateLimitHeaders} (MintSession): {@code x-ratelimit-limit},
 * {@code x-ratelimit-remaining} and {@code x-ratelimit-reset} (Unix seconds) in the headers of
 * a success, or the trailers of a refusal, plus {@code retry-after} (seconds) when limited. The
 * service records the decision its call took in the holder this interceptor puts in the call's
 * context. A refusal by a limit on any method (QUOTA_EXCEEDED of Redeem too) has them in its
 * trailers from {@link ErrorMapper}, as the HTTP port has them from the same details
 * ({@link HttpErrorEnvelope}). A call refused before it took anything (a body that does not
 * parse, an invalid field, a suspended tenant) gets the caller's {@link Allowance} as it stands,
 * read for {@link #ALLOWANCE_WAIT} at most; a store's failure gets none (the allowance cannot be
 * read either), nor a caller the authentication refused (this interceptor is never reached).
 */
public final class RateLimitHeaders implements ServerInterceptor {
  static final Metadata.Key<String> LIMIT = Metadata.Key.of("x-ratelimit-limit", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> REMAINING = Metadata.Key.of("x-ratelimit-remaining", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> RESET = Metadata.Key.of("x-ratelimit-reset", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);
  /** The names of the four, as HTTP headers and gRPC metadata spell them. */
  static final Set<String> NAMES = Set.of(LIMIT.name(), REMAINING.name(), RESET.name(), RETRY_AFTER.name());
  /** How long a refused call waits for the read of its caller's allowance. */
  static final Duration ALLOWANCE_WAIT = Duration.ofMillis(250);
  private static final Context.Key<AtomicReference<RateLimiter.Decision>> DECISION = Context.key("tokenauthority-rate-limit");
  /** The refusals made before the limiter that may carry the allowance; never a store's (UNAVAILABLE). */
  private static final Set<Status.Code> REFUSED_BEFORE_THE_LIMIT =
      EnumSet.of(Status.Code.INVALID_ARGUMENT, Status.Code.PERMISSION_DENIED, Status.Code.FAILED_PRECONDITION, Status.Code.NOT_FOUND);

  /**
   * Reads a caller's mint allowance as it stands, taking nothing; {@code user} is empty when the
   * request was not read. Called on the thread that refused the call, never a store's.
   */
  public interface Allowance {
    CompletableFuture<Optional<RateLimiter.Decision>> of(Caller caller, Optional<String> user);
  }

  private final Allowance allowance;

  public RateLimitHeaders(Allowance allowance) {
    this.allowance = allowance;
  }

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
    Caller caller = CallerContext.CALLER.get();
    AtomicReference<String> user = new AtomicReference<>();
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
            // Done when the headers went out already, when a refusal by a limit (a rate, a quota)
            // carries its own (ErrorMapper), when the call took a decision, and when no read is
            // due: an unknown caller, or not a refusal made before the limiter.
            if (sent
                || trailers.containsKey(LIMIT)
                || add(trailers, decision.get())
                || caller == null
                || !REFUSED_BEFORE_THE_LIMIT.contains(status.getCode())) {
              super.close(status, trailers);
            } else {
              CompletableFuture<Optional<RateLimiter.Decision>> read;
              try {
                read = allowance.of(caller, Optional.ofNullable(user.get()));
              } catch (RuntimeException e) {
                read = CompletableFuture.completedFuture(Optional.empty()); // the refusal goes out as it is
              }
              read
                  .completeOnTimeout(Optional.empty(), ALLOWANCE_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                  .whenComplete((found, unread) -> {
                    if (found != null) {
                      found.ifPresent(d -> add(trailers, d));
                    }
                    super.close(status, trailers);
                  });
            }
          }
        };
    ServerCall.Listener<ReqT> listener =
        Contexts.interceptCall(Context.current().withValue(DECISION, decision), withHeaders, headers, next);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        if (message instanceof MintSessionRequest request) {
          user.set(request.getExternalUserId());
        }
        super.onMessage(message);
      }
    };
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
