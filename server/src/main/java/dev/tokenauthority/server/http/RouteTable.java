package dev.tokenauthority.server.http;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The HTTP routes of served gRPC services, one per method, read from the methods'
 * {@code google.api.http} annotations: nothing here names an RPC. Every method of the services
 * it is given must carry a rule, so a new RPC cannot be forgotten by the HTTP port.
 */
final class RouteTable {
  private final List<RpcRoute> routes;

  private RouteTable(List<RpcRoute> routes) {
    this.routes = List.copyOf(routes);
  }

  /** @throws IllegalArgumentException when a method has no rule or an unsupported one */
  static RouteTable of(List<ServerServiceDefinition> services) {
    List<RpcRoute> routes = new ArrayList<>();
    for (ServerServiceDefinition service : services) {
      for (ServerMethodDefinition<?, ?> definition : service.getMethods()) {
        MethodDescriptor proto = protoOf(definition);
        if (!proto.getOptions().hasExtension(AnnotationsProto.http)) {
          throw new IllegalArgumentException(proto.getFullName() + " has no google.api.http rule");
        }
        HttpRule rule = proto.getOptions().getExtension(AnnotationsProto.http);
        routes.add(RpcRoute.of(definition, proto, rule));
      }
    }
    return new RouteTable(routes);
  }

  private static MethodDescriptor protoOf(ServerMethodDefinition<?, ?> definition) {
    Object schema = definition.getMethodDescriptor().getSchemaDescriptor();
    if (schema instanceof ProtoMethodDescriptorSupplier supplier) {
      return supplier.getMethodDescriptor();
    }
    throw new IllegalArgumentException(definition.getMethodDescriptor().getFullMethodName() + " is not a protobuf method");
  }

  List<RpcRoute> routes() {
    return routes;
  }

  /** What a request's method and path lead to. */
  sealed interface Lookup permits Found, NoPath, WrongMethod {}

  /** A route and the path's variables. */
  record Found(RpcRoute route, Map<String, String> variables) implements Lookup {}

  /** No route has this path. */
  record NoPath() implements Lookup {}

  /** Routes have this path, with other methods. */
  record WrongMethod(TreeSet<String> allowed) implements Lookup {
    /** The methods as an {@code Allow} header's value. */
    String allowHeader() {
      return String.join(", ", allowed);
    }
  }

  Lookup find(String method, String path) {
    TreeSet<String> allowed = new TreeSet<>();
    // HEAD is GET without the body (RFC 9110 9.3.2), as on the open routes.
    String asMethod = method.equals("HEAD") ? "GET" : method;
    for (RpcRoute route : routes) {
      Optional<Map<String, String>> variables = route.path().match(path);
      if (variables.isPresent()) {
        if (route.httpMethod().equals(asMethod)) {
          return new Found(route, variables.get());
        }
        allowed.add(route.httpMethod());
        if (route.httpMethod().equals("GET")) {
          allowed.add("HEAD");
        }
      }
    }
    return allowed.isEmpty() ? new NoPath() : new WrongMethod(allowed);
  }
}
