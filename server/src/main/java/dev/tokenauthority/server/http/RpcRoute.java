package dev.tokenauthority.server.http;

import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerMethodDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One RPC as an HTTP route, read from its {@code google.api.http} rule: the method, the path,
 * which part of the request the body fills ({@code *}, one field, or none), and the served
 * method definition (the same one, interceptors included, that the gRPC port serves).
 */
record RpcRoute(
    String httpMethod, PathTemplate path, String body, ServerMethodDefinition<?, ?> definition, MethodDescriptor proto) {

  /** Well-known types whose JSON form is a string, so a query parameter can carry them. */
  private static final Set<String> STRING_TYPES =
      Set.of("google.protobuf.FieldMask", "google.protobuf.Timestamp", "google.protobuf.Duration");

  /** The route of one method definition; throws when its rule is missing or unsupported. */
  static RpcRoute of(ServerMethodDefinition<?, ?> definition, MethodDescriptor proto, HttpRule rule) {
    String method;
    String path;
    switch (rule.getPatternCase()) {
      case GET -> { method = "GET"; path = rule.getGet(); }
      case POST -> { method = "POST"; path = rule.getPost(); }
      case PATCH -> { method = "PATCH"; path = rule.getPatch(); }
      case PUT -> { method = "PUT"; path = rule.getPut(); }
      case DELETE -> { method = "DELETE"; path = rule.getDelete(); }
      default -> throw new IllegalArgumentException(proto.getFullName() + ": unsupported google.api.http pattern " + rule.getPatternCase());
    }
    if (!rule.getAdditionalBindingsList().isEmpty()) {
      throw new IllegalArgumentException(proto.getFullName() + ": additional_bindings are not supported");
    }
    String body = rule.getBody();
    Descriptor request = proto.getInputType();
    if (!body.isEmpty() && !body.equals("*") && request.findFieldByName(body) == null) {
      throw new IllegalArgumentException(proto.getFullName() + ": body '" + body + "' is not a field");
    }
    PathTemplate template = PathTemplate.parse(path);
    for (String variable : template.variables()) {
      if (fieldAt(request, variable) == null) {
        throw new IllegalArgumentException(proto.getFullName() + ": path variable '" + variable + "' is not a field");
      }
    }
    return new RpcRoute(method, template, body, definition, proto);
  }

  /** The field at a dotted path of proto names, or null. */
  static FieldDescriptor fieldAt(Descriptor type, String path) {
    Descriptor current = type;
    FieldDescriptor field = null;
    for (String name : path.split("\\.")) {
      if (current == null) {
        return null;
      }
      field = current.findFieldByName(name);
      if (field == null) {
        return null;
      }
      current = field.getJavaType() == FieldDescriptor.JavaType.MESSAGE ? field.getMessageType() : null;
    }
    return field;
  }

  /** The request's default instance, for its builder. */
  Message prototype() {
    Object marshaller = definition.getMethodDescriptor().getRequestMarshaller();
    if (marshaller instanceof PrototypeMarshaller<?> p && p.getMessagePrototype() instanceof Message m) {
      return m;
    }
    throw new IllegalStateException(proto.getFullName() + " has no protobuf request marshaller");
  }

  /** Whether the route reads a body at all. */
  boolean hasBody() {
    return !body.isEmpty();
  }

  /**
   * The top-level request fields a query parameter may set: those neither in the body nor in
   * the path, whose JSON form is a string or number (or a list of them). AIP-127: with body
   * {@code *} there are none.
   */
  List<FieldDescriptor> queryFields() {
    List<FieldDescriptor> fields = new ArrayList<>();
    if (body.equals("*")) {
      return fields;
    }
    Set<String> bound = Set.copyOf(path.variables().stream().map(v -> v.split("\\.")[0]).toList());
    for (FieldDescriptor f : proto.getInputType().getFields()) {
      if (f.getName().equals(body) || bound.contains(f.getName()) || f.isMapField()) {
        continue;
      }
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || STRING_TYPES.contains(f.getMessageType().getFullName())) {
        fields.add(f);
      }
    }
    return fields;
  }

  /** {@code Service_Method}, the OpenAPI operation id. */
  String operationId() {
    return proto.getService().getName() + "_" + proto.getName();
  }

  String lowerMethod() {
    return httpMethod.toLowerCase(Locale.ROOT);
  }
}
