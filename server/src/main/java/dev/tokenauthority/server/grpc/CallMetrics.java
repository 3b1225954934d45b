package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Measures every call's ending: its latency per RPC and status code, sessions minted and
 * redeemed, and refusals by ErrorInfo reason (API-key authentication failures counted apart).
 */
final class CallMetrics implements CallRecordingInterceptor.CallRecorder {
  private static final String MINT = TokenAuthorityGrpc.getMintSessionMethod().getFullMethodName();
  private static final String REDEEM = TokenAuthorityGrpc.getRedeemMethod().getFullMethodName();
  private static final String CHECK = AuthorizationGrpc.getCheckMethod().getFullMethodName();
  private static final Status.Code[] CODES = Status.Code.values();

  private final Metrics metrics;
  private final ConcurrentHashMap<String, MethodMeters> methods = new ConcurrentHashMap<>();

  CallMetrics(Metrics metrics) {
    this.metrics = metrics;
  }

  /** The meters of one RPC; timers are registered at the first call that ends with their code. */
  private final class MethodMeters {
    final String service;
    final String method;
    final boolean mint;
    final boolean redeem;
    /** An ext_authz Check: it redeems only in redeem mode. */
    final boolean check;
    final AtomicReferenceArray<Timer> timers = new AtomicReferenceArray<>(CODES.length);

    MethodMeters(MethodDescriptor<?, ?> descriptor) {
      String fullName = descriptor.getFullMethodName();
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
  }

  @Override
  public void record(CallEnding ending) {
    MethodDescriptor<?, ?> descriptor = ending.method();
    MethodMeters meters = methods.get(descriptor.getFullMethodName());
    if (meters == null) {
      meters = methods.computeIfAbsent(descriptor.getFullMethodName(), k -> new MethodMeters(descriptor));
    }
    meters.timer(ending.code()).record(System.nanoTime() - ending.startNanos(), TimeUnit.NANOSECONDS);
    if (ending.ok()) {
      if (meters.mint) {
        metrics.sessionMinted();
      } else if (meters.redeem || (meters.check && ending.checkConsumesUse())) {
        metrics.sessionRedeemed();
      }
      return;
    }
    String reason = ending.reason();
    if (reason != null) {
      metrics.rejected(meters.method, reason);
      if (reason.startsWith("API_KEY_")) {
        metrics.apiKeyAuthFailed(reason);
      }
    }
  }
}
