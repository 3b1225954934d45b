package dev.tokenauthority.server.http;

import dev.tokenauthority.server.grpc.ErrorMapper;
import dev.tokenauthority.server.grpc.MalformedRequests;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One unary gRPC call made by the HTTP port: a {@link ServerCall} handed to a method
 * definition's handler exactly as grpc's own transport hands one, so the same interceptors and
 * service run. It keeps what the call sends (headers, the one message, status and trailers)
 * and completes {@link #result()} when the call is closed.
 *
 * <p>Listener callbacks are made one at a time (under this call's lock), as grpc guarantees.
 */
final class HttpCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
  /** What the call sent back. {@code message} is null unless the status is OK. */
  record Result(Status status, Metadata headers, Metadata trailers, Object message) {}

  private final MethodDescriptor<ReqT, RespT> method;
  private final Attributes attributes;
  private final String authority;
  private final CompletableFuture<Result> result = new CompletableFuture<>();
  private volatile Metadata headers = new Metadata();
  private volatile RespT message;
  private volatile boolean cancelled;
  private Listener<ReqT> listener;

  private HttpCall(MethodDescriptor<ReqT, RespT> method, Attributes attributes, String authority) {
    this.method = method;
    this.attributes = attributes;
    this.authority = authority;
  }

  /**
   * Starts the call on {@code executor}: the handler (interceptors, then the service) gets the
   * request and the end of input. {@code clientGone} completing first cancels the call. For a
   * request the HTTP request could not be made into ({@code unbuilt}, with {@code request}
   * null), the call runs through its interceptors and is refused with that failure, as gRPC
   * refuses a body that does not parse ({@link MalformedRequests}).
   */
  static <ReqT, RespT> CompletableFuture<Result> start(
      ServerMethodDefinition<ReqT, RespT> definition,
      Object request,
      RuntimeException unbuilt,
      Metadata requestHeaders,
      Attributes attributes,
      String authority,
      Executor executor,
      CompletableFuture<?> clientGone) {
    HttpCall<ReqT, RespT> call = new HttpCall<>(definition.getMethodDescriptor(), attributes, authority);
    // The request was built from this method's own request prototype, so it is a ReqT.
    ReqT typed = cast(request);
    executor.execute(() -> call.run(definition, typed, unbuilt, requestHeaders));
    clientGone.whenComplete((v, e) -> executor.execute(call::clientGone));
    call.result.whenComplete((r, e) -> {
      if (!call.cancelled) {
        executor.execute(call::completed);
      }
    });
    return call.result;
  }

  @SuppressWarnings("unchecked")
  private static <T> T cast(Object o) {
    return (T) o;
  }

  private synchronized void run(
      ServerMethodDefinition<ReqT, RespT> definition, ReqT request, RuntimeException unbuilt, Metadata requestHeaders) {
    try {
      listener = definition.getServerCallHandler().startCall(this, requestHeaders);
      listener.onReady();
      if (unbuilt != null) {
        MalformedRequests.deliverUnbuilt(listener, unbuilt);
      } else {
        listener.onMessage(request);
      }
      listener.onHalfClose();
    } catch (RuntimeException e) {
      // What grpc's transport does with a throwing handler: close the call, never the process.
      StatusRuntimeException status = ErrorMapper.toStatusException(e);
      close(status.getStatus(), status.getTrailers());
    }
  }

  private synchronized void clientGone() {
    if (result.isDone()) {
      return;
    }
    cancelled = true;
    result.complete(new Result(Status.CANCELLED.withDescription("the HTTP client went away"), headers, new Metadata(), null));
    if (listener != null) {
      listener.onCancel();
    }
  }

  private synchronized void completed() {
    if (listener != null) {
      listener.onComplete();
    }
  }

  @Override
  public void request(int numMessages) {
    // The one request message is delivered at start.
  }

  @Override
  public void sendHeaders(Metadata headers) {
    this.headers = headers;
  }

  @Override
  public void sendMessage(RespT message) {
    this.message = message;
  }

  @Override
  public void close(Status status, Metadata trailers) {
    result.complete(new Result(status, headers, trailers == null ? new Metadata() : trailers, status.isOk() ? message : null));
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  @Override
  public boolean isReady() {
    return true;
  }

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public String getAuthority() {
    return authority;
  }

  @Override
  public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
    return method;
  }
}
