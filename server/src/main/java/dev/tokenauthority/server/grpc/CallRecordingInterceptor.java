package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.metrics.Metrics;
import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * Decides once how each call ended and hands that one {@link CallEnding} to the metrics and the
 * audit log, so that the two never tell different stories of the same call. A call ends at the
 * first of its close by the service and its cancellation by the transport (a client that gave
 * up, a deadline, a request the transport refused); whichever comes second is not a second
 * outcome. Install it outside the authentication interceptor: it sees the calls that one refuses,
 * and hears of the caller through {@link CallerContext.CallerListener}.
 */
public final class CallRecordingInterceptor implements ServerInterceptor {
  /** Told of every call's ending, once. */
  interface CallRecorder {
    void record(CallEnding ending);
  }

  private final CallRecorder[] recorders;
  /** Whether a recorder names the caller, so that the call must hear of it (the audit does). */
  private final boolean wantsCaller;

  /**
   * @param metrics null: none recorded
   * @param audit null: no audit log
   */
  public CallRecordingInterceptor(Metrics metrics, AuditLog audit, Clock clock) {
    List<CallRecorder> list = new ArrayList<>();
    if (metrics != null) {
      list.add(new CallMetrics(metrics));
    }
    if (audit != null) {
      list.add(new CallAudit(audit, clock));
    }
    this.recorders = list.toArray(CallRecorder[]::new);
    this.wantsCaller = audit != null;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    RecordedCall<ReqT, RespT> recorded = new RecordedCall<>(call, recorders, System.nanoTime());
    Context context;
    ServerCall.Listener<ReqT> listener;
    if (wantsCaller) {
      context = Context.current().withValue(CallerContext.CALLER_LISTENER, recorded);
      Context previous = context.attach();
      try {
        listener = next.startCall(recorded, headers);
      } finally {
        context.detach(previous);
      }
    } else {
      context = Context.current();
      listener = next.startCall(recorded, headers);
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        recorded.request = message;
        super.onMessage(message);
      }

      @Override
      public void onCancel() {
        recorded.cancelled(TransportRefusals.refusal(context));
        super.onCancel();
      }
    };
  }

  private static final class RecordedCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT>
      implements CallerContext.CallerListener {
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<RecordedCall> ENDED =
        AtomicIntegerFieldUpdater.newUpdater(RecordedCall.class, "ended");

    private final CallRecorder[] recorders;
    private final long startNanos;
    private volatile int ended;
    volatile Caller caller;
    volatile Object request;
    private volatile Object response;

    RecordedCall(ServerCall<ReqT, RespT> call, CallRecorder[] recorders, long startNanos) {
      super(call);
      this.recorders = recorders;
      this.startNanos = startNanos;
    }

    @Override
    public void authenticated(Caller caller) {
      this.caller = caller;
    }

    @Override
    public void sendMessage(RespT message) {
      response = message;
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      ended(status, trailers, response);
      super.close(status, trailers);
    }

    /**
     * The client went away (cancelled, deadline, connection lost) before the call was closed, or
     * the transport refused its request ({@code refusal}; null otherwise). What the service may
     * have sent already is not an answer the client got.
     */
    void cancelled(StatusRuntimeException refusal) {
      if (refusal == null) {
        ended(Status.CANCELLED, null, null);
      } else {
        ended(refusal.getStatus(), refusal.getTrailers(), null);
      }
    }

    private void ended(Status status, Metadata trailers, Object response) {
      if (!ENDED.compareAndSet(this, 0, 1)) {
        return;
      }
      CallEnding ending =
          CallEnding.of(getMethodDescriptor(), status, trailers, request, response, caller, getAttributes(), startNanos);
      for (CallRecorder recorder : recorders) {
        recorder.record(ending);
      }
    }
  }
}
