package dev.tokenauthority.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.tokenauthority.server.error.FieldViolation;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The value checks of the proto3 JSON mapping that protobuf's {@code JsonFormat} leaves out: it
 * takes {@code true}, a number or a one-element array for a string ({@code ["u"]} became user
 * {@code u}), and rolls an impossible timestamp forward ({@code 2030-13-01T00:00:00Z} became
 * 2031-01-01, with a WARN in the log). Each such value is a field violation naming the field by
 * its path of proto names, as JsonFormat's own refusals are.
 */
final class JsonValues {
  /** RFC 3339 with an offset, every field in its range: no month 13, February 30, 24:00 or :60. */
  private static final DateTimeFormatter RFC_3339 =
      DateTimeFormatter.ISO_OFFSET_DATE_TIME.withResolverStyle(ResolverStyle.STRICT);
  /** google.protobuf.Timestamp's range. */
  private static final Instant MIN_TIMESTAMP = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant MAX_TIMESTAMP = Instant.parse("9999-12-31T23:59:59.999999999Z");
  /** One path of a FieldMask in JSON: lowerCamelCase (or proto) names joined by dots. */
  private static final Pattern MASK_PATH = Pattern.compile("[a-z][a-zA-Z0-9_]*(\\.[a-z][a-zA-Z0-9_]*)*");

  private JsonValues() {}

  /** Adds a violation for each field of {@code json} whose value its type does not take. */
  static void check(Descriptor type, com.google.gson.JsonObject json, String prefix, List<FieldViolation> out) {
    for (Map.Entry<String, JsonElement> e : json.entrySet()) {
      FieldDescriptor field = JsonRequests.field(type, e.getKey());
      JsonElement value = e.getValue();
      if (field == null || value.isJsonNull() || field.isMapField()) {
        continue;
      }
      String path = prefix + field.getName();
      if (field.isRepeated()) {
        if (!value.isJsonArray()) {
          out.add(new FieldViolation(path, "must be a list"));
          continue;
        }
        JsonArray array = value.getAsJsonArray();
        for (int i = 0; i < array.size(); i++) {
          JsonElement spelled = checkOne(field, array.get(i), path + "[" + i + "]", out);
          if (spelled != null) {
            array.set(i, spelled);
          }
        }
      } else {
        JsonElement spelled = checkOne(field, value, path, out);
        if (spelled != null) {
          e.setValue(spelled);
        }
      }
    }
  }

  /**
   * Adds a violation if {@code value} does not fit {@code field}.
   *
   * @return the value as JsonFormat must be given it, when it is valid but spelled otherwise (an
   *     RFC 3339 time with a lowercase {@code t} or {@code z}, which JsonFormat refuses); else null
   */
  private static JsonElement checkOne(FieldDescriptor field, JsonElement value, String path, List<FieldViolation> out) {
    if (value.isJsonNull()) {
      return null;
    }
    String problem =
        switch (field.getJavaType()) {
          case STRING, BYTE_STRING -> isString(value) ? null : "must be a string";
          case BOOLEAN -> isBoolean(value) ? null : "must be true or false";
          case INT, LONG, FLOAT, DOUBLE -> isNumber(value) ? null : "must be a number";
          case ENUM -> isString(value) || isNumber(value) ? null : "must be one of the names of " + field.getEnumType().getName();
          case MESSAGE -> null;
        };
    if (problem != null) {
      out.add(new FieldViolation(path, problem));
      return null;
    }
    if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
      return null;
    }
    String messageType = field.getMessageType().getFullName();
    JsonElement spelled = null;
    if (messageType.equals("google.protobuf.Timestamp")) {
      if (isString(value)) {
        // RFC 3339 (5.6) allows a lowercase t and z; JsonFormat takes only the capitals.
        String upper = value.getAsString().toUpperCase(Locale.ROOT);
        problem = timestampProblem(upper);
        spelled = problem == null && !upper.equals(value.getAsString()) ? new JsonPrimitive(upper) : null;
      } else {
        problem = "must be an RFC 3339 time, such as 2030-01-31T12:00:00Z";
      }
    } else if (messageType.equals("google.protobuf.FieldMask")) {
      problem = isString(value) ? maskProblem(value.getAsString()) : "must be a string of comma-separated field names";
    } else if (JsonRequests.isPlainMessage(field)) {
      if (value.isJsonObject()) {
        check(field.getMessageType(), value.getAsJsonObject(), path + ".", out);
      } else {
        problem = "must be an object";
      }
    }
    if (problem != null) {
      out.add(new FieldViolation(path, problem));
    }
    return spelled;
  }

  private static String timestampProblem(String text) {
    Instant time;
    try {
      time = OffsetDateTime.parse(text, RFC_3339).toInstant();
    } catch (DateTimeParseException e) {
      return "is not a valid RFC 3339 time (such as 2030-01-31T12:00:00Z)";
    }
    if (time.isBefore(MIN_TIMESTAMP) || time.isAfter(MAX_TIMESTAMP)) {
      return "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z";
    }
    return null;
  }

  private static String maskProblem(String text) {
    if (text.isEmpty()) {
      return null;
    }
    for (String path : text.split(",", -1)) {
      if (!MASK_PATH.matcher(path).matches()) {
        return "must be field names in lowerCamelCase, separated by commas (such as displayName,status)";
      }
    }
    return null;
  }

  static boolean isString(JsonElement value) {
    return value instanceof JsonPrimitive p && p.isString();
  }

  private static boolean isBoolean(JsonElement value) {
    return value instanceof JsonPrimitive p
        && (p.isBoolean() || (p.isString() && (p.getAsString().equals("true") || p.getAsString().equals("false"))));
  }

  /** A number, or a string holding one as the mapping allows ({@code "9007199254740993"}, {@code "NaN"}). */
  private static boolean isNumber(JsonElement value) {
    return value instanceof JsonPrimitive p && (p.isNumber() || p.isString());
  }
}
