package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
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
    final AtomicReferenceArray<Timer> timers = new AtomicReferenceArray<>(CODES.length);

    MethodMeters(MethodDescriptor<?, ?> descriptor) {
      this.fullName = descriptor.getFullMethodName();
      this.service = descriptor.getServiceName();
      this.method = descriptor.getBareMethodName();
      this.mint = fullName.equals(MINT);
      this.redeem = fullName.equals(REDEEM);
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

    void ended(Status status, Metadata trailers, long startNanos) {
      timer(status.getCode()).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
      if (status.isOk()) {
        if (mint) {
          metrics.sessionMinted();
        } else if (redeem) {
          metrics.sessionRedeemed();
        }
        return;
      }
      String reason = ErrorMapper.reasonOf(status, trailers);
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
    return new SimpleForwardingServerCallListener<>(next.startCall(metered, headers)) {
      @Override
      public void onCancel() {
        metered.cancelled();
        super.onCancel();
      }
    };
  }

  private static final class MeteredCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<MeteredCall> ENDED =
        AtomicIntegerFieldUpdater.newUpdater(MeteredCall.class, "ended");

    private final MethodMeters meters;
    private final long startNanos;
    private volatile int ended;

    MeteredCall(ServerCall<ReqT, RespT> call, MethodMeters meters, long startNanos) {
      super(call);
      this.meters = meters;
      this.startNanos = startNanos;
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (ENDED.compareAndSet(this, 0, 1)) {
        meters.ended(status, trailers, startNanos);
      }
      super.close(status, trailers);
    }

    /** The client went away (cancelled, deadline) before the call was closed. */
    void cancelled() {
      if (ENDED.compareAndSet(this, 0, 1)) {
        meters.ended(Status.CANCELLED, null, startNanos);
      }
    }
  }
}
