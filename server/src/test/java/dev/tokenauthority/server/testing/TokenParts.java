package dev.tokenauthority.server.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The decoded header and payload of a compact JWS, read without verifying it, and ways to forge one. */
public record TokenParts(String headerJson, String payloadJson, String signature) {
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

  /** Splits and decodes a compact JWS; fails unless it has exactly three parts. */
  public static TokenParts of(String token) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw new AssertionError("a compact JWS has 3 parts, this has " + parts.length);
    }
    return new TokenParts(decode(parts[0]), decode(parts[1]), parts[2]);
  }

  public Struct header() {
    return json(headerJson);
  }

  public Struct payload() {
    return json(payloadJson);
  }

  /** A compact JWS made of this header and payload JSON and the given (base64url) signature. */
  public static String compact(String headerJson, String payloadJson, String signature) {
    return encode(headerJson) + "." + encode(payloadJson) + "." + signature;
  }

  public static String encode(String json) {
    return ENCODER.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String part) {
    return new String(DECODER.decode(part), StandardCharsets.UTF_8);
  }

  private static Struct json(String json) {
    Struct.Builder b = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not a JSON object: " + json, e);
    }
    return b.build();
  }
}
