package dev.tokenauthority.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.FieldViolation;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds an RPC's request message from an HTTP request by the proto3 JSON mapping: the body
 * (all of the request, or the one field the rule names), then the path's variables, then the
 * query parameters. Field names are accepted as lowerCamelCase or as proto names. An unknown
 * field or parameter, a body that is not a JSON object, a value of the wrong type, or a string
 * whose escapes name no character (half of a surrogate pair, such as an escaped U+D800 alone) is
 * {@code INVALID_REQUEST} with one field violation naming it: a field by its path of proto
 * names, as gRPC's BadRequest names it, an unknown one as sent. No value is ever echoed back.
 */
final class JsonRequests {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  /** At most this many field violations are listed in one answer. */
  static final int MAX_VIOLATIONS = 32;

  private JsonRequests() {}

  /**
   * @param body the body as text, empty when there is none
   * @param query the query parameters, each with its values in order
   * @throws AuthorityException INVALID_REQUEST
   */
  static Message decode(RpcRoute route, String body, Map<String, String> pathVariables, Map<String, List<String>> query) {
    Descriptor type = route.proto().getInputType();
    JsonObject json = new JsonObject();
    if (route.hasBody() && !body.isBlank()) {
      JsonObject parsed = parseObject(body);
      if (route.body().equals("*")) {
        json = parsed;
      } else {
        json.add(route.body(), parsed);
      }
    } else if (!route.hasBody() && !body.isBlank()) {
      throw invalid("body", "this route takes no body; send the fields as query parameters");
    }
    List<FieldViolation> unknown = new ArrayList<>();
    checkFields(type, json, "", unknown);
    if (!unknown.isEmpty()) {
      throw AuthorityException.invalid(ErrorReason.INVALID_REQUEST, capped(unknown));
    }
    // Decoded text is UTF-8 already (text()); only an escape can make a lone surrogate, which
    // gRPC refuses as invalid UTF-8 and the store would keep as '?'.
    if (body.indexOf("\\u") >= 0) {
      String broken = loneSurrogate(type, json, "");
      if (broken != null) {
        throw invalid(broken, "is not valid Unicode: an escape names half of a surrogate pair");
      }
    }
    for (Map.Entry<String, String> v : pathVariables.entrySet()) {
      String[] path = v.getKey().split("\\.");
      // Given twice is never last-wins: the body may repeat the URL's value, not change it.
      JsonElement sent = get(json, path);
      if (sent != null && !sent.isJsonNull() && !(JsonValues.isString(sent) && sent.getAsString().equals(v.getValue()))) {
        throw invalid(v.getKey(), "differs from the " + path[path.length - 1] + " in the URL path; send one value");
      }
      put(json, path, new JsonPrimitive(v.getValue()));
    }
    addQuery(route, query, json);
    List<FieldViolation> wrong = new ArrayList<>();
    JsonValues.check(type, json, "", wrong);
    if (!wrong.isEmpty()) {
      throw AuthorityException.invalid(ErrorReason.INVALID_REQUEST, capped(wrong));
    }
    Message.Builder builder = route.prototype().newBuilderForType();
    try {
      PARSER.merge(json.toString(), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String culprit = culprit(json, type, "");
      throw invalid(culprit != null ? culprit : route.body().equals("*") || route.body().isEmpty() ? "body" : route.body(),
          "has a value of the wrong type for " + type.getName());
    }
    return builder.build();
  }

  /**
   * The body's text. Bytes that are not UTF-8 are {@code INVALID_REQUEST}, as gRPC refuses a
   * string field that is not, instead of becoming U+FFFD in what is stored.
   */
  static String text(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8);
    // Malformed input decodes to U+FFFD; only then is the strict (slower) decoder asked.
    if (text.indexOf('\uFFFD') >= 0) {
      try {
        StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(body));
      } catch (CharacterCodingException e) {
        throw AuthorityException.of(ErrorReason.INVALID_REQUEST, "the body is not UTF-8");
      }
    }
    return text;
  }

  private static JsonObject parseObject(String body) {
    JsonElement element;
    try (JsonReader reader = new JsonReader(new StringReader(body))) {
      // Strict: {a: 1} or a trailing second document is not JSON, whatever lenient parsers accept.
      reader.setStrictness(Strictness.STRICT);
      element = read(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonParseException("trailing data");
      }
    } catch (JsonParseException | IOException | IllegalStateException | NumberFormatException e) {
      throw AuthorityException.of(ErrorReason.INVALID_REQUEST, "the body is not JSON");
    }
    if (!element.isJsonObject()) {
      throw AuthorityException.of(ErrorReason.INVALID_REQUEST, "the body must be a JSON object");
    }
    return element.getAsJsonObject();
  }

  /**
   * One JSON value, as Gson's own parser reads it, except that an object naming a key twice is
   * refused (naming it, as sent): Gson keeps the last, so {@code {"externalUserId":"u1",
   * "externalUserId":"u2"}} would mint for u2 while a proxy that reads the first sees u1. Its
   * depth is bounded by the reader's nesting limit.
   */
  private static JsonElement read(JsonReader reader) throws IOException {
    switch (reader.peek()) {
      case BEGIN_OBJECT -> {
        JsonObject object = new JsonObject();
        reader.beginObject();
        while (reader.hasNext()) {
          String name = reader.nextName();
          if (object.has(name)) {
            // The reader's JSONPath ($.context.role) is the key's path as sent.
            throw invalid(reader.getPath().replaceFirst("^\\$\\.?", ""), "is given twice");
          }
          object.add(name, read(reader));
        }
        reader.endObject();
        return object;
      }
      case BEGIN_ARRAY -> {
        JsonArray array = new JsonArray();
        reader.beginArray();
        while (reader.hasNext()) {
          array.add(read(reader));
        }
        reader.endArray();
        return array;
      }
      case STRING -> {
        return new JsonPrimitive(reader.nextString());
      }
      case NUMBER -> {
        // Exact, as written: an int64 past 2^53 keeps every digit for JsonFormat to judge.
        return new JsonPrimitive(new java.math.BigDecimal(reader.nextString()));
      }
      case BOOLEAN -> {
        return new JsonPrimitive(reader.nextBoolean());
      }
      case NULL -> {
        reader.nextNull();
        return JsonNull.INSTANCE;
      }
      default -> throw new JsonParseException("unexpected " + reader.peek());
    }
  }

  /**
   * Collects the keys that name no field (with their path as sent), a field given under both of
   * its names and a second member of one oneof (by proto names); and spells an enum value given
   * as api.md names it ({@code SUSPENDED}) as the proto does ({@code TENANT_STATUS_SUSPENDED}).
   * Well-known types are JsonFormat's.
   */
  private static void checkFields(Descriptor type, JsonObject json, String prefix, List<FieldViolation> out) {
    Map<Object, FieldDescriptor> seen = new java.util.HashMap<>();
    for (Map.Entry<String, JsonElement> e : json.entrySet()) {
      String path = prefix + e.getKey();
      FieldDescriptor field = field(type, e.getKey());
      if (field == null) {
        out.add(new FieldViolation(path, "is not a field of " + type.getName()));
        continue;
      }
      if (seen.putIfAbsent(field, field) != null) {
        out.add(new FieldViolation(prefix + field.getName(), "is given twice (as " + field.getJsonName() + " and " + field.getName() + ")"));
        continue;
      }
      var oneof = field.getRealContainingOneof();
      if (oneof != null && !e.getValue().isJsonNull()) {
        FieldDescriptor other = seen.putIfAbsent(oneof, field);
        if (other != null) {
          out.add(new FieldViolation(prefix + field.getName(), "cannot be given with " + other.getName()
              + ": only one of " + oneof.getFields().stream().map(FieldDescriptor::getName).collect(java.util.stream.Collectors.joining(", "))));
          continue;
        }
      }
      if (field.getJavaType() == FieldDescriptor.JavaType.ENUM && !field.isRepeated()) {
        spellEnum(field, e);
        continue;
      }
      if (!isPlainMessage(field)) {
        continue;
      }
      JsonElement value = e.getValue();
      if (value.isJsonObject()) {
        checkFields(field.getMessageType(), value.getAsJsonObject(), path + ".", out);
      } else if (value.isJsonArray()) {
        JsonArray array = value.getAsJsonArray();
        for (int i = 0; i < array.size(); i++) {
          if (array.get(i).isJsonObject()) {
            checkFields(field.getMessageType(), array.get(i).getAsJsonObject(), path + "[" + i + "].", out);
          }
        }
      }
    }
  }

  /**
   * api.md names enum values without the prefix buf's lint rules give them in the proto
   * ({@code ACTIVE} for {@code TENANT_STATUS_ACTIVE}): such a name is taken as the proto's.
   */
  private static void spellEnum(FieldDescriptor field, Map.Entry<String, JsonElement> e) {
    JsonElement value = e.getValue();
    if (!JsonValues.isString(value)) {
      return;
    }
    var type = field.getEnumType();
    String name = value.getAsString();
    if (type.findValueByName(name) == null) {
      String prefix = type.getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT) + "_";
      if (type.findValueByName(prefix + name) != null) {
        e.setValue(new JsonPrimitive(prefix + name));
      }
    }
  }

  /** A field by its JSON name or its proto name. */
  static FieldDescriptor field(Descriptor type, String name) {
    FieldDescriptor byProto = type.findFieldByName(name);
    if (byProto != null) {
      return byProto;
    }
    for (FieldDescriptor f : type.getFields()) {
      if (f.getJsonName().equals(name)) {
        return f;
      }
    }
    return null;
  }

  private static void addQuery(RpcRoute route, Map<String, List<String>> query, JsonObject json) {
    List<FieldDescriptor> allowed = route.queryFields();
    for (Map.Entry<String, List<String>> param : query.entrySet()) {
      FieldDescriptor field = allowed.stream()
          .filter(f -> f.getJsonName().equals(param.getKey()) || f.getName().equals(param.getKey()))
          .findFirst()
          .orElseThrow(() -> invalid(param.getKey(), "is not a query parameter of this route"));
      List<String> values = param.getValue();
      if (json.has(field.getName())) {
        // The same parameter under its other name: as a repeated one, never the last one wins.
        throw invalid(field.getName(), "is given more than once");
      }
      if (field.isRepeated()) {
        JsonArray array = new JsonArray();
        values.forEach(array::add);
        json.add(field.getName(), array);
      } else if (values.size() > 1) {
        throw invalid(field.getName(), "is given more than once");
      } else {
        json.add(field.getName(), new JsonPrimitive(values.get(0)));
      }
    }
  }

  /** The value at {@code path} (by the names the route gives), null when there is none. */
  private static JsonElement get(JsonObject json, String[] path) {
    JsonElement current = json;
    for (String name : path) {
      if (!current.isJsonObject()) {
        return null;
      }
      current = current.getAsJsonObject().get(name);
      if (current == null) {
        return null;
      }
    }
    return current;
  }

  private static void put(JsonObject json, String[] path, JsonElement value) {
    JsonObject current = json;
    for (int i = 0; i < path.length - 1; i++) {
      JsonElement next = current.get(path[i]);
      if (next == null || !next.isJsonObject()) {
        next = new JsonObject();
        current.add(path[i], next);
      }
      current = next.getAsJsonObject();
    }
    current.add(path[path.length - 1], value);
  }

  /**
   * The path, by proto names, of the field whose value JsonFormat refuses, found by parsing each
   * field alone and descending into the message that holds the refused value; null when each
   * parses alone.
   */
  private static String culprit(JsonObject json, Descriptor type, String prefix) {
    for (Map.Entry<String, JsonElement> e : json.entrySet()) {
      JsonObject alone = new JsonObject();
      alone.add(e.getKey(), e.getValue());
      try {
        PARSER.merge(alone.toString(), DynamicMessage.newBuilder(type));
      } catch (InvalidProtocolBufferException | RuntimeException bad) {
        FieldDescriptor field = field(type, e.getKey());
        if (field == null) {
          return prefix + e.getKey();
        }
        String path = prefix + field.getName();
        String deeper = isPlainMessage(field) && !field.isRepeated() && e.getValue().isJsonObject()
            ? culprit(e.getValue().getAsJsonObject(), field.getMessageType(), path + ".")
            : null;
        return deeper != null ? deeper : path;
      }
    }
    return null;
  }

  /**
   * The path, by proto names, of a key or string that holds half of a surrogate pair, or null.
   * Inside a well-known type (a context's Struct) the field holding it is named.
   */
  private static String loneSurrogate(Descriptor type, JsonObject json, String prefix) {
    for (Map.Entry<String, JsonElement> e : json.entrySet()) {
      FieldDescriptor field = field(type, e.getKey());
      String path = prefix + (field == null ? e.getKey() : field.getName());
      JsonElement value = e.getValue();
      if (field != null && isPlainMessage(field) && (value.isJsonObject() || value.isJsonArray())) {
        Iterable<JsonElement> messages = value.isJsonArray() ? value.getAsJsonArray() : List.of(value);
        for (JsonElement m : messages) {
          String inner = m.isJsonObject() ? loneSurrogate(field.getMessageType(), m.getAsJsonObject(), path + ".") : null;
          if (inner != null) {
            return inner;
          }
        }
      } else if (hasLoneSurrogate(value)) {
        return path;
      }
    }
    return null;
  }

  private static boolean hasLoneSurrogate(JsonElement value) {
    if (value.isJsonPrimitive()) {
      return value.getAsJsonPrimitive().isString() && hasLoneSurrogate(value.getAsString());
    }
    if (value.isJsonArray()) {
      for (JsonElement item : value.getAsJsonArray()) {
        if (hasLoneSurrogate(item)) {
          return true;
        }
      }
    } else if (value.isJsonObject()) {
      for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
        if (hasLoneSurrogate(e.getKey()) || hasLoneSurrogate(e.getValue())) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The first {@link #MAX_VIOLATIONS} violations, and one saying how many more there were: a
   * body of 20,000 unknown fields is not answered with 20,000 details.
   */
  private static List<FieldViolation> capped(List<FieldViolation> violations) {
    if (violations.size() <= MAX_VIOLATIONS) {
      return violations;
    }
    List<FieldViolation> first = new ArrayList<>(violations.subList(0, MAX_VIOLATIONS));
    first.add(new FieldViolation("body", "and " + (violations.size() - MAX_VIOLATIONS) + " more fields like these"));
    return first;
  }

  /** A message field this mapping reads field by field: not a map, not a well-known type. */
  static boolean isPlainMessage(FieldDescriptor field) {
    return field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !field.isMapField()
        && !field.getMessageType().getFullName().startsWith("google.protobuf.");
  }

  private static AuthorityException invalid(String field, String description) {
    return AuthorityException.invalidField(field, description);
  }
}
