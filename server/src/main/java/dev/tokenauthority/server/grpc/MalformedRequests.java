package dev.tokenauthority.server.grpc;

import com.google.common.base.Throwables;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request whose body is not a valid message (bytes that do not parse, invalid UTF-8
 * in a string, a struct nested past protobuf's recursion limit, corrupt gzip, no message at all)
 * with INVALID_ARGUMENT / {@code INVALID_REQUEST}, and one that inflates past the size limit with
 * RESOURCE_EXHAUSTED, each with its ErrorInfo, instead of grpc-java's UNKNOWN "Application error
 * processing RPC" and its stack trace in the log.
 *
 * <p>grpc-java parses a request with the method's marshaller inside its own call machinery, where
 * a failure is beyond any interceptor's reach. So {@link #guard} wraps each method's request
 * marshaller to hand on {@code null} for a body that does not parse, and its handler to close
 * such a call with the mapped status. Apply it to a service before its interceptors: the refusal
 * then passes through them like any other, so it is measured and audited, and authentication
 * still comes first. Interceptors that read request messages must expect {@code null}.
 */
public final class MalformedRequests {
  private static final Logger log = LoggerFactory.getLogger(MalformedRequests.class);
  /** Why the last parse on this thread failed; grpc parses and delivers on one thread, in turn. */
  private static final ThreadLocal<RuntimeException> PARSE_FAILURE = new ThreadLocal<>();

  private MalformedRequests() {}

  /**
   * Delivers to a guarded call a request another transport could not build ({@code failure}:
   * HTTP/JSON's decoding, with its field violations), as grpc delivers a body that does not
   * parse: the call is refused with that failure after its interceptors have seen it, so that it
   * is authenticated, measured and audited as any other.
   */
  public static <T> void deliverUnbuilt(ServerCall.Listener<T> listener, RuntimeException failure) {
    PARSE_FAILURE.set(failure);
    try {
      listener.onMessage(null);
    } finally {
      // Authentication may have closed the call before the guard read it.
      PARSE_FAILURE.remove();
    }
  }

  /** The same service whose calls refuse a malformed body with a clear status. */
  public static ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> guarded = guard(method);
      methods.add(guarded);
      descriptor.addMethod(guarded.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder result = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(result::addMethod);
    return result.build();
  }

  private static <ReqT, RespT> ServerMethodDefinition<ReqT, RespT> guard(ServerMethodDefinition<ReqT, RespT> method) {
    MethodDescriptor<ReqT, RespT> original = method.getMethodDescriptor();
    MethodDescriptor<ReqT, RespT> descriptor =
        original.toBuilder().setRequestMarshaller(new Lenient<>(original.getRequestMarshaller())).build();
    ServerCallHandler<ReqT, RespT> next = method.getServerCallHandler();
    boolean oneMessage = original.getType().clientSendsOneMessage();
    return ServerMethodDefinition.create(descriptor, (call, headers) -> new Guarded<>(next.startCall(call, headers), call, oneMessage));
  }

  /**
   * Parses like the original; a body that fails becomes {@code null}, its failure kept for the
   * handler. Still a {@link MethodDescriptor.PrototypeMarshaller} when the original is one, so
   * that whatever finds a method's message type through it (reflection, JSON transcoding) still can.
   */
  private static final class Lenient<T> implements MethodDescriptor.PrototypeMarshaller<T> {
    private final MethodDescriptor.Marshaller<T> original;

    Lenient(MethodDescriptor.Marshaller<T> original) {
      this.original = original;
    }

    @Override
    public T getMessagePrototype() {
      return original instanceof MethodDescriptor.PrototypeMarshaller<T> p ? p.getMessagePrototype() : null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Class<T> getMessageClass() {
      if (original instanceof MethodDescriptor.ReflectableMarshaller<T> r) {
        return r.getMessageClass();
      }
      T prototype = getMessagePrototype();
      return prototype == null ? null : (Class<T>) prototype.getClass();
    }

    @Override
    public InputStream stream(T value) {
      return original.stream(value);
    }

    @Override
    public T parse(InputStream stream) {
      try {
        return original.parse(stream);
      } catch (RuntimeException e) {
        PARSE_FAILURE.set(e);
        return null;
      }
    }
  }

  private static final class Guarded<ReqT, RespT> extends SimpleForwardingServerCallListener<ReqT> {
    private final ServerCall<ReqT, RespT> call;
    private final boolean oneMessage;
    private boolean received;
    private boolean refused;

    Guarded(ServerCall.Listener<ReqT> next, ServerCall<ReqT, RespT> call, boolean oneMessage) {
      super(next);
      this.call = call;
      this.oneMessage = oneMessage;
    }

    @Override
    public void onMessage(ReqT message) {
      if (refused) {
        return;
      }
      if (message == null) {
        RuntimeException failure = PARSE_FAILURE.get();
        PARSE_FAILURE.remove();
        refuse(failure);
        return;
      }
      received = true;
      super.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (refused) {
        return;
      }
      if (oneMessage && !received) {
        refuse(null);
        return;
      }
      super.onHalfClose();
    }

    private void refuse(RuntimeException failure) {
      refused = true;
      String method = call.getMethodDescriptor().getBareMethodName();
      StatusRuntimeException status;
      if (tooLarge(failure)) {
        status = ErrorMapper.requestTooLarge(
            "the " + method + " request is larger than the limit once decompressed");
      } else if (failure instanceof AuthorityException built) {
        // Another transport's own refusal (deliverUnbuilt): it already says what is wrong, and where.
        status = ErrorMapper.toStatusException(built);
      } else {
        String why = failure == null ? "the request carried no message" : "the request body is not a valid message: " + describe(failure);
        status = ErrorMapper.toStatusException(AuthorityException.of(ErrorReason.INVALID_REQUEST, why));
      }
      log.debug("{} refused a malformed request: {}", method, status.getStatus().getDescription());
      call.close(status.getStatus(), status.getTrailers() == null ? new Metadata() : status.getTrailers());
    }
  }

  /** A RESOURCE_EXHAUSTED from grpc's size check while reading (inflating) the body. */
  private static boolean tooLarge(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        return true;
      }
    }
    return false;
  }

  /** The innermost cause's message (protobuf's and the inflater's say what is wrong), bounded. */
  private static String describe(Throwable failure) {
    Throwable root = Throwables.getRootCause(failure);
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    int end = message.indexOf(". ");
    message = end > 0 ? message.substring(0, end) : message;
    return message.length() > 120 ? message.substring(0, 120) : message;
  }
}
