package dev.tokenauthority.server.grpc;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Tells {@link CallRecordingInterceptor}, which records metrics and audit, why grpc-java's
 * transport ended a call before any of our code saw its message: a frame cut short by the end of
 * the stream (INTERNAL "Encountered end-of-stream mid-frame"), a frame already over the size
 * limit before inflating (RESOURCE_EXHAUSTED), a body the transport could not decompress. The transport answers the
 * client itself; the application only hears {@code onCancel}, which without this would be
 * recorded as a client that gave up.
 *
 * <p>Install it with {@code ServerBuilder.addStreamTracerFactory}: each stream's tracer puts
 * itself in the call's {@link Context}, and the transport reports the closing status to it before
 * the application hears of the cancellation.
 */
public final class TransportRefusals extends ServerStreamTracer.Factory {
  private static final Context.Key<Tracer> TRACER = Context.key("transport-close-status");

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new Tracer();
  }

  /**
   * How a call of this context that was cancelled really ended: the transport's refusal of a
   * malformed request, as our INVALID_REQUEST with the code the client received; null when the
   * client cancelled, its deadline passed, its connection went away, or the call did not come in
   * over a transport with this factory installed.
   */
  public static StatusRuntimeException refusal(Context context) {
    Tracer tracer = TRACER.get(context);
    Status closed = tracer == null ? null : tracer.closed;
    if (closed == null || !refusesTheRequest(closed.getCode())) {
      return null;
    }
    return ErrorMapper.refusedByTransport(closed.getCode(), "the transport refused the request: " + closed.getDescription());
  }

  /** The codes grpc's deframer ends a stream with; cancellation, deadline and a lost connection are not among them. */
  private static boolean refusesTheRequest(Status.Code code) {
    return code == Status.Code.INTERNAL || code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.INVALID_ARGUMENT;
  }

  private static final class Tracer extends ServerStreamTracer {
    volatile Status closed;

    @Override
    public Context filterContext(Context context) {
      return context.withValue(TRACER, this);
    }

    @Override
    public void streamClosed(Status status) {
      closed = status;
    }
  }
}
