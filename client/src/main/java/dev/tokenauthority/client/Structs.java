package dev.tokenauthority.client;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a session {@code context} between {@code google.protobuf.Struct} and plain Java:
 * maps with string keys, lists, strings, numbers, booleans and null, as JSON has them.
 */
final class Structs {
  private Structs() {}

  static Struct toStruct(Map<String, ?> map) {
    Struct.Builder b = Struct.newBuilder();
    map.forEach((k, v) -> b.putFields(requireKey(k), toValue(v, k)));
    return b.build();
  }

  private static String requireKey(Object key) {
    if (!(key instanceof String s)) {
      throw new IllegalArgumentException("context keys must be strings, not " + key);
    }
    return s;
  }

  private static Value toValue(Object v, String path) {
    if (v == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }
    if (v instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    }
    if (v instanceof Boolean bool) {
      return Value.newBuilder().setBoolValue(bool).build();
    }
    if (v instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    }
    if (v instanceof Map<?, ?> m) {
      Struct.Builder s = Struct.newBuilder();
      m.forEach((k, nested) -> s.putFields(requireKey(k), toValue(nested, path + "." + k)));
      return Value.newBuilder().setStructValue(s).build();
    }
    if (v instanceof Iterable<?> items) {
      ListValue.Builder list = ListValue.newBuilder();
      int i = 0;
      for (Object item : items) {
        list.addValues(toValue(item, path + "[" + i++ + "]"));
      }
      return Value.newBuilder().setListValue(list).build();
    }
    throw new IllegalArgumentException(
        "context " + path + " is a " + v.getClass().getName() + "; use strings, numbers, booleans, null, maps and lists");
  }

  /** The struct as an unmodifiable map; numbers come back as {@link Double}, as JSON numbers are. */
  static Map<String, Object> toMap(Struct struct) {
    Map<String, Object> m = new LinkedHashMap<>();
    struct.getFieldsMap().forEach((k, v) -> m.put(k, toJava(v)));
    return Collections.unmodifiableMap(m);
  }

  private static Object toJava(Value v) {
    return switch (v.getKindCase()) {
      case NULL_VALUE, KIND_NOT_SET -> null;
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> v.getBoolValue();
      case NUMBER_VALUE -> v.getNumberValue();
      case STRUCT_VALUE -> toMap(v.getStructValue());
      case LIST_VALUE -> {
        List<Object> list = new ArrayList<>();
        v.getListValue().getValuesList().forEach(item -> list.add(toJava(item)));
        yield Collections.unmodifiableList(list);
      }
    };
  }
}
