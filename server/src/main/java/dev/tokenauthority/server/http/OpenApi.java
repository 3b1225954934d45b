package dev.tokenauthority.server.http;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.rpc.RpcMethod;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenAPI 3 description of the HTTP port, generated from the route table and the message
 * descriptors (proto3 JSON mapping: int64 as string, Timestamp as date-time, enums by name),
 * plus the open routes ({@code /healthz}, the JWK Set, this document). Nothing in it is
 * written by hand, so it cannot drift from what is served.
 */
final class OpenApi {
  /**
   * A route served outside the RPCs, without a key.
   *
   * @param body the message its 200 carries (the JWK Set's), null for a body described apart
   * @param health whether it is the health route, whose 200 and 503 carry {@code {"status": ...}}
   */
  record OpenRoute(String method, String path, String summary, Descriptor body, boolean health) {}

  private static final String ERROR = "#/components/responses/Error";

  private OpenApi() {}

  static String generate(RouteTable table, List<OpenRoute> open) {
    JsonObject doc = new JsonObject();
    doc.addProperty("openapi", "3.0.3");
    JsonObject info = new JsonObject();
    info.addProperty("title", "token-authority");
    info.addProperty("version", "v1");
    info.addProperty("description", "The HTTP/JSON form of the tokenauthority.v1 gRPC API, generated from its protos.");
    doc.add("info", info);
    // Relative to where the document was fetched from: the same port serves both.
    JsonObject server = new JsonObject();
    server.addProperty("url", "/");
    JsonArray servers = new JsonArray();
    servers.add(server);
    doc.add("servers", servers);
    Map<String, JsonObject> paths = new TreeMap<>();
    // OpenAPI 3.0.3: templated paths that differ only in their variables' names are one path.
    Map<String, String> pathByShape = new HashMap<>();
    Map<String, JsonObject> schemas = new TreeMap<>();
    Deque<Descriptor> pending = new ArrayDeque<>();
    for (RpcRoute route : table.routes()) {
      JsonObject op = new JsonObject();
      op.addProperty("operationId", route.operationId());
      op.addProperty("summary", route.proto().getService().getName() + "." + route.proto().getName());
      op.add("tags", array(route.proto().getService().getName()));
      String path = pathByShape.computeIfAbsent(route.path().toString().replaceAll("\\{[^}]*}", "{}"), s -> route.path().toString());
      List<String> names = variables(path);
      JsonArray parameters = new JsonArray();
      List<String> variables = route.path().variables();
      for (int i = 0; i < variables.size(); i++) {
        FieldDescriptor f = RpcRoute.fieldAt(route.proto().getInputType(), variables.get(i));
        JsonObject parameter = parameter(names.get(i), "path", true, schema(f, pending));
        if (!names.get(i).equals(variables.get(i))) {
          parameter.addProperty("description", "the request's " + variables.get(i));
        }
        parameters.add(parameter);
      }
      for (FieldDescriptor f : route.queryFields()) {
        parameters.add(parameter(f.getJsonName(), "query", false, schema(f, pending)));
      }
      if (!parameters.isEmpty()) {
        op.add("parameters", parameters);
      }
      if (route.hasBody()) {
        Descriptor bodyType = route.body().equals("*")
            ? route.proto().getInputType()
            : route.proto().getInputType().findFieldByName(route.body()).getMessageType();
        JsonObject body = new JsonObject();
        body.addProperty("required", true);
        body.add("content", json(ref(bodyType, pending)));
        op.add("requestBody", body);
      }
      JsonObject responses = new JsonObject();
      JsonObject ok = new JsonObject();
      ok.addProperty("description", "OK");
      boolean rateLimited = MethodTable.find(route.proto().getService().getFullName() + "/" + route.proto().getName())
          .map(RpcMethod::rateLimitHeaders)
          .orElse(false);
      if (rateLimited) {
        ok.add("headers", rateLimitHeaders(false));
      }
      ok.add("content", json(ref(route.proto().getOutputType(), pending)));
      responses.add("200", ok);
      if (rateLimited) {
        responses.add("429", errorResponse("RATE_LIMITED or QUOTA_EXCEEDED: the limit, and when to come back", true));
      } else if (route.proto().getFullName().equals(TokenAuthorityGrpc.getRedeemMethod().getFullMethodName().replace('/', '.'))) {
        responses.add("429", errorResponse(
            "QUOTA_EXCEEDED: the tenant's monthly quota is used up; it renews at X-RateLimit-Reset", true));
      }
      responses.add("default", rateLimited
          ? errorResponse("Any other error; a key allowed to call this gets its allowance as it stands", false)
          : refTo(ERROR));
      op.add("responses", responses);
      JsonObject security = new JsonObject();
      security.add("bearer", new JsonArray());
      JsonArray securities = new JsonArray();
      securities.add(security);
      op.add("security", securities);
      paths.computeIfAbsent(path, p -> new JsonObject()).add(route.lowerMethod(), op);
    }
    for (OpenRoute route : open) {
      JsonObject op = new JsonObject();
      op.addProperty("operationId", route.path().replaceAll("[^A-Za-z0-9]+", "_").replaceAll("^_|_$", ""));
      op.addProperty("summary", route.summary());
      op.add("security", new JsonArray());
      JsonObject responses = new JsonObject();
      JsonObject ok = new JsonObject();
      ok.addProperty("description", "OK");
      JsonObject body = route.health() ? healthSchema() : route.body() != null ? ref(route.body(), pending) : anyObject();
      ok.add("content", json(body));
      responses.add("200", ok);
      if (route.health()) {
        JsonObject notServing = new JsonObject();
        notServing.addProperty("description", "Not serving (starting, draining, or the store is unavailable)");
        notServing.add("content", json(healthSchema()));
        responses.add("503", notServing);
      }
      responses.add("default", refTo(ERROR));
      op.add("responses", responses);
      paths.computeIfAbsent(route.path(), p -> new JsonObject()).add(route.method().toLowerCase(java.util.Locale.ROOT), op);
    }
    while (!pending.isEmpty()) {
      Descriptor type = pending.pop();
      if (!schemas.containsKey(type.getFullName())) {
        schemas.put(type.getFullName(), new JsonObject());
        schemas.put(type.getFullName(), message(type, pending));
      }
    }
    JsonObject pathsJson = new JsonObject();
    paths.forEach(pathsJson::add);
    doc.add("paths", pathsJson);
    JsonObject components = new JsonObject();
    JsonObject schemasJson = new JsonObject();
    schemas.forEach(schemasJson::add);
    schemasJson.add("Error", errorSchema());
    components.add("schemas", schemasJson);
    JsonObject errorResponse = new JsonObject();
    errorResponse.addProperty("description", "A failure: the code is a reason of the v1 contract (API_KEY_INVALID, RATE_LIMITED, ...).");
    errorResponse.add("content", json(refTo("#/components/schemas/Error")));
    JsonObject responses = new JsonObject();
    responses.add("Error", errorResponse);
    components.add("responses", responses);
    JsonObject bearer = new JsonObject();
    bearer.addProperty("type", "http");
    bearer.addProperty("scheme", "bearer");
    bearer.addProperty("description", "An API key secret: Authorization: Bearer sk_...");
    JsonObject securitySchemes = new JsonObject();
    securitySchemes.add("bearer", bearer);
    components.add("securitySchemes", securitySchemes);
    doc.add("components", components);
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(doc);
  }

  /** A free-form object: any member, any JSON value (a generator must not read it as "no members"). */
  private static JsonObject anyObject() {
    JsonObject object = type("object", null);
    object.addProperty("additionalProperties", true);
    return object;
  }

  /** The names of a path template's variables, in order. */
  private static List<String> variables(String path) {
    List<String> names = new ArrayList<>();
    Matcher m = Pattern.compile("\\{([^}]*)}").matcher(path);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** The health route's body: {@code {"status": "SERVING"}} or {@code "NOT_SERVING"}. */
  private static JsonObject healthSchema() {
    JsonObject status = type("string", null);
    JsonArray values = new JsonArray();
    values.add("SERVING");
    values.add("NOT_SERVING");
    status.add("enum", values);
    JsonObject properties = new JsonObject();
    properties.add("status", status);
    JsonObject schema = type("object", null);
    schema.add("properties", properties);
    schema.add("required", array("status"));
    return schema;
  }

  /** An error answer that carries the rate-limit headers (and Retry-After on a refusal by a limit). */
  private static JsonObject errorResponse(String description, boolean refusal) {
    JsonObject response = new JsonObject();
    response.addProperty("description", description);
    response.add("headers", rateLimitHeaders(refusal));
    response.add("content", json(refTo("#/components/schemas/Error")));
    return response;
  }

  /** The x-ratelimit-* headers of a rate-limited method's answers (and Retry-After on a refusal). */
  private static JsonObject rateLimitHeaders(boolean refusal) {
    JsonObject headers = new JsonObject();
    headers.add("X-RateLimit-Limit", integerHeader("calls allowed per period (2147483647: no limit)"));
    headers.add("X-RateLimit-Remaining", integerHeader("calls left now"));
    headers.add("X-RateLimit-Reset", integerHeader("Unix seconds when the allowance is whole again"));
    if (refusal) {
      headers.add("Retry-After", integerHeader("whole seconds to wait before a call is admitted, never 0"));
    }
    return headers;
  }

  private static JsonObject integerHeader(String description) {
    JsonObject schema = new JsonObject();
    schema.addProperty("type", "integer");
    schema.addProperty("format", "int64");
    JsonObject header = new JsonObject();
    header.addProperty("description", description);
    header.add("schema", schema);
    return header;
  }

  private static JsonObject message(Descriptor type, Deque<Descriptor> pending) {
    JsonObject schema = new JsonObject();
    schema.addProperty("type", "object");
    JsonObject properties = new JsonObject();
    for (FieldDescriptor f : type.getFields()) {
      properties.add(f.getJsonName(), schema(f, pending));
    }
    schema.add("properties", properties);
    return schema;
  }

  /** The JSON schema of a field's value by the proto3 JSON mapping. */
  private static JsonObject schema(FieldDescriptor f, Deque<Descriptor> pending) {
    JsonObject single = single(f, pending);
    if (!f.isRepeated() || f.isMapField()) {
      return single;
    }
    JsonObject array = new JsonObject();
    array.addProperty("type", "array");
    array.add("items", single);
    return array;
  }

  private static JsonObject single(FieldDescriptor f, Deque<Descriptor> pending) {
    return switch (f.getJavaType()) {
      case STRING -> type("string", null);
      case BYTE_STRING -> type("string", "byte");
      case BOOLEAN -> type("boolean", null);
      case INT -> type("integer", "int32");
      case LONG -> type("string", "int64");
      case FLOAT -> type("number", "float");
      case DOUBLE -> type("number", "double");
      case ENUM -> {
        JsonObject e = type("string", null);
        JsonArray values = new JsonArray();
        for (EnumValueDescriptor v : f.getEnumType().getValues()) {
          values.add(v.getName());
        }
        e.add("enum", values);
        yield e;
      }
      case MESSAGE -> {
        if (!f.isMapField()) {
          yield messageRef(f.getMessageType(), pending);
        }
        JsonObject map = type("object", null);
        map.add("additionalProperties", schema(f.getMessageType().findFieldByName("value"), pending));
        yield map;
      }
    };
  }

  private static JsonObject messageRef(Descriptor type, Deque<Descriptor> pending) {
    return switch (type.getFullName()) {
      case "google.protobuf.Timestamp" -> type("string", "date-time");
      case "google.protobuf.Duration", "google.protobuf.FieldMask" -> type("string", null);
      case "google.protobuf.Struct", "google.protobuf.Any" -> anyObject();
      case "google.protobuf.Value" -> new JsonObject();
      default -> ref(type, pending);
    };
  }

  private static JsonObject ref(Descriptor type, Deque<Descriptor> pending) {
    pending.push(type);
    return refTo("#/components/schemas/" + type.getFullName());
  }

  private static JsonObject errorSchema() {
    JsonObject detail = new JsonObject();
    detail.addProperty("type", "object");
    JsonObject detailProps = new JsonObject();
    detailProps.add("path", type("string", null));
    detailProps.add("message", type("string", null));
    detail.add("properties", detailProps);
    JsonObject error = new JsonObject();
    error.addProperty("type", "object");
    error.add("required", array("code", "message"));
    JsonObject errorProps = new JsonObject();
    errorProps.add("code", type("string", null));
    errorProps.add("message", type("string", null));
    JsonObject details = type("array", null);
    details.add("items", detail);
    errorProps.add("details", details);
    error.add("properties", errorProps);
    JsonObject envelope = new JsonObject();
    envelope.addProperty("type", "object");
    envelope.add("required", array("error"));
    JsonObject props = new JsonObject();
    props.add("error", error);
    envelope.add("properties", props);
    return envelope;
  }

  private static JsonObject parameter(String name, String in, boolean required, JsonObject schema) {
    JsonObject p = new JsonObject();
    p.addProperty("name", name);
    p.addProperty("in", in);
    p.addProperty("required", required);
    p.add("schema", schema);
    return p;
  }

  private static JsonObject json(JsonObject schema) {
    JsonObject media = new JsonObject();
    media.add("schema", schema);
    JsonObject content = new JsonObject();
    content.add("application/json", media);
    return content;
  }

  private static JsonObject refTo(String ref) {
    JsonObject o = new JsonObject();
    o.addProperty("$ref", ref);
    return o;
  }

  private static JsonObject type(String type, String format) {
    JsonObject o = new JsonObject();
    o.addProperty("type", type);
    if (format != null) {
      o.addProperty("format", format);
    }
    return o;
  }

  private static JsonArray array(String... values) {
    JsonArray a = new JsonArray();
    for (String v : values) {
      a.add(v);
    }
    return a;
  }
}
