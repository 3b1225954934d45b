package dev.tokenauthority.server.grpc;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the open {@code grpc.health.v1.Health/Watch} streams so that shutdown can end them.
 * A watch never ends by itself, and every grpc client with health checking keeps one per
 * connection: left open, they would hold a draining server until the end of its grace period.
 * Shutdown first sends NOT_SERVING through them, then {@link #endAll} closes them UNAVAILABLE.
 */
public final class HealthWatches implements ServerInterceptor {
  private static final String WATCH = HealthGrpc.getWatchMethod().getFullMethodName();

  private final Set<EndableCall<?, ?>> open = ConcurrentHashMap.newKeySet();
  private volatile boolean ending;

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (!call.getMethodDescriptor().getFullMethodName().equals(WATCH)) {
      return next.startCall(call, headers);
    }
    EndableCall<ReqT, RespT> watch = new EndableCall<>(call);
    open.add(watch);
    if (ending) {
      watch.end();
    }
    return new SimpleForwardingServerCallListener<>(next.startCall(watch, headers)) {
      @Override
      public void onCancel() {
        open.remove(watch);
        super.onCancel();
      }

      @Override
      public void onComplete() {
        open.remove(watch);
        super.onComplete();
      }
    };
  }

  /** Closes every open watch with UNAVAILABLE, and any that starts from now on. */
  public void endAll() {
    ending = true;
    for (EndableCall<?, ?> watch : open) {
      watch.end();
    }
  }

  /**
   * A call that another thread may close: the health service sends on it from whichever thread
   * changes a status, so every use is serialized, and nothing is sent once it is closed.
   */
  private static final class EndableCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {
    private boolean closed;

    EndableCall(ServerCall<ReqT, RespT> call) {
      super(call);
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(RespT message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }

    void end() {
      close(Status.UNAVAILABLE.withDescription("the server is shutting down"), new Metadata());
    }
  }
}
