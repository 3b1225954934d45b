package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Measures every call: its latency per RPC and status code, sessions minted and redeemed, and
 * refusals by ErrorInfo reason (API-key authentication failures counted apart). Install it
 * outside the authentication interceptor, so that it sees the calls that one refuses too.
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private static final String MINT = TokenAuthorityGrpc.getMintSessionMethod().getFullMethodName();
  private static final String REDEEM = TokenAuthorityGrpc.getRedeemMethod().getFullMethodName();
  private static final String CHECK = AuthorizationGrpc.getCheckMethod().getFullMethodName();
  private static final Status.Code[] CODES = Status.Code.values();

  private final Metrics metrics;
  private final ConcurrentHashMap<String, MethodMeters> methods = new ConcurrentHashMap<>();

  public MetricsInterceptor(Metrics metrics) {
    this.metrics = metrics;
  }

  /** The meters of one RPC; timers are registered at the first call that ends with their code. */
  private final class MethodMeters {
    final String fullName;
    final String service;
    final String method;
    final boolean mint;
    final boolean redeem;
    /** An ext_authz Check: answers OK either way, its response says whether it refused. */
    final boolean check;
    final AtomicReferenceArray<Timer> timers = new AtomicReferenceArray<>(CODES.length);

    MethodMeters(MethodDescriptor<?, ?> descriptor) {
      this.fullName = descriptor.getFullMethodName();
      this.service = descriptor.getServiceName();
      this.method = descriptor.getBareMethodName();
      this.mint = fullName.equals(MINT);
      this.redeem = fullName.equals(REDEEM);
      this.check = fullName.equals(CHECK);
    }

    Timer timer(Status.Code code) {
      Timer t = timers.get(code.ordinal());
      if (t == null) {
        // Registering twice returns the same timer, so a race here is harmless.
        t = metrics.rpcTimer(service, method, code.name());
        timers.set(code.ordinal(), t);
      }
      return t;
    }

    void ended(Status status, Metadata trailers, long startNanos, Object request, Object response) {
      com.google.rpc.Status denial = check ? ExtAuthzService.denial(response) : null;
      Status.Code code = denial == null ? status.getCode() : Status.fromCodeValue(denial.getCode()).getCode();
      timer(code).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
      if (code == Status.Code.OK) {
        if (mint) {
          metrics.sessionMinted();
        } else if (redeem || (check && ExtAuthzService.consumesUse(request))) {
          metrics.sessionRedeemed();
        }
        return;
      }
      String reason = denial == null ? ErrorMapper.reasonOf(status, trailers) : ErrorMapper.reasonOf(denial);
      if (reason != null) {
        metrics.rejected(method, reason);
        if (reason.startsWith("API_KEY_")) {
          metrics.apiKeyAuthFailed(reason);
        }
      }
    }
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    MethodDescriptor<ReqT, RespT> descriptor = call.getMethodDescriptor();
    MethodMeters meters = methods.get(descriptor.getFullMethodName());
    if (meters == null) {
      meters = methods.computeIfAbsent(descriptor.getFullMethodName(), k -> new MethodMeters(descriptor));
    }
    MeteredCall<ReqT, RespT> metered = new MeteredCall<>(call, meters, System.nanoTime());
    Context context = Context.current();
    return new SimpleForwardingServerCallListener<>(next.startCall(metered, headers)) {
      @Override
      public void onMessage(ReqT message) {
        if (metered.meters.check) {
          metered.request = message;
        }
        super.onMessage(message);
      }

      @Override
      public void onCancel() {
        metered.cancelled(TransportRefusals.refusal(context));
        super.onCancel();
      }
    };
  }

  private static final class MeteredCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<MeteredCall> ENDED =
        AtomicIntegerFieldUpdater.newUpdater(MeteredCall.class, "ended");

    final MethodMeters meters;
    private final long startNanos;
    private volatile int ended;
    /** Kept for a Check only: its outcome is in its messages. */
    volatile Object request;
    private volatile Object response;

    MeteredCall(ServerCall<ReqT, RespT> call, MethodMeters meters, long startNanos) {
      super(call);
      this.meters = meters;
      this.startNanos = startNanos;
    }

    @Override
    public void sendMessage(RespT message) {
      if (meters.check) {
        response = message;
      }
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (ENDED.compareAndSet(this, 0, 1)) {
        meters.ended(status, trailers, startNanos, request, response);
      }
      super.close(status, trailers);
    }

    /**
     * The client went away (cancelled, deadline) before the call was closed, or the transport
     * refused its request ({@code refusal}, null otherwise).
     */
    void cancelled(StatusRuntimeException refusal) {
      if (ENDED.compareAndSet(this, 0, 1)) {
        if (refusal == null) {
          meters.ended(Status.CANCELLED, null, startNanos, request, null);
        } else {
          meters.ended(refusal.getStatus(), refusal.getTrailers(), startNanos, request, null);
        }
      }
    }
  }
}
