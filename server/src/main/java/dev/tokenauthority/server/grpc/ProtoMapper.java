package dev.tokenauthority.server.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import com.google.protobuf.util.Timestamps;
import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.session.MintRules;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.signing.SigningKeys;
import dev.tokenauthority.v1.IntrospectResponse;
import dev.tokenauthority.v1.Jwk;
import dev.tokenauthority.v1.RedeemResponse;
import java.time.Instant;
import java.util.Base64;

/** Converts between the domain's types and the v1 protobuf messages. */
final class ProtoMapper {
  /**
   * Nesting limit for reading a stored context: the JSON parser let at most 100 levels of objects
   * in (three messages each) before MintRules' limit. Not more: protobuf parses recursively, and a
   * few thousand levels would overflow a thread's stack.
   */
  private static final int STORED_CONTEXT_RECURSION_LIMIT = 400;

  private ProtoMapper() {}

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }

  /**
   * The instant of a timestamp, or null when the field is unset.
   *
   * @throws AuthorityException INVALID_REQUEST naming {@code field} when the timestamp is outside
   *     the range google.protobuf.Timestamp allows (years 1-9999, nanos 0-999999999)
   */
  static Instant instant(boolean present, Timestamp t, String field) {
    if (!present) {
      return null;
    }
    if (!Timestamps.isValid(t)) {
      throw AuthorityException.invalidField(field, "is not a valid timestamp (years 1 to 9999)");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static dev.tokenauthority.v1.ApiKey apiKey(ApiKey key) {
    dev.tokenauthority.v1.ApiKey.Builder b =
        dev.tokenauthority.v1.ApiKey.newBuilder()
            .setId(key.id())
            .setTenantId(key.tenantId())
            .setName(key.name())
            .addAllScopes(key.scopes())
            .addAllAllowedOrigins(key.allowedOrigins())
            .setCreateTime(timestamp(key.createTime()))
            .setHint(key.hint());
    if (key.expireTime() != null) {
      b.setExpireTime(timestamp(key.expireTime()));
    }
    if (key.lastUsedTime() != null) {
      b.setLastUsedTime(timestamp(key.lastUsedTime()));
    }
    return b.build();
  }

  static byte[] encodeContext(boolean present, Struct context) {
    return present ? context.toByteArray() : new byte[0];
  }

  /**
   * What MintRules checks of a context, measured in one walk of it: how deeply it nests objects
   * and lists (1 for a flat object, 0 for none), and whether it holds a number that JSON cannot
   * write (NaN or an infinity, which protobuf's binary form and a JSON number past the double
   * range such as {@code 1e400} both give; its session could never be answered over HTTP/JSON or
   * to Envoy). The walk goes no deeper than one level past {@code MintRules.MAX_CONTEXT_DEPTH},
   * so a hostile context costs no more than that, and a deeper one is refused anyway.
   */
  record ContextShape(int depth, boolean nonFiniteNumber) {
    private static final ContextShape NONE = new ContextShape(0, false);

    static ContextShape of(boolean present, Struct context) {
      if (!present) {
        return NONE;
      }
      ShapeWalk walk = new ShapeWalk();
      int depth = walk.depth(context.getFieldsMap().values(), 1);
      return new ContextShape(depth, walk.nonFiniteNumber);
    }
  }

  /** One walk of a context's values for {@link ContextShape}. */
  private static final class ShapeWalk {
    private boolean nonFiniteNumber;

    /** The deepest level among {@code values}, which sit at {@code level}; past the limit, {@code level}. */
    int depth(Iterable<Value> values, int level) {
      if (level > MintRules.MAX_CONTEXT_DEPTH) {
        return level;
      }
      int deepest = level;
      for (Value v : values) {
        int inner = switch (v.getKindCase()) {
          case STRUCT_VALUE -> depth(v.getStructValue().getFieldsMap().values(), level + 1);
          case LIST_VALUE -> depth(v.getListValue().getValuesList(), level + 1);
          case NUMBER_VALUE -> {
            nonFiniteNumber |= !Double.isFinite(v.getNumberValue());
            yield level;
          }
          default -> level;
        };
        deepest = Math.max(deepest, inner);
      }
      return deepest;
    }
  }

  /**
   * A stored context. MintRules keeps new contexts within {@code MAX_CONTEXT_DEPTH}, which any
   * protobuf parser reads inside a response; a session minted over HTTP/JSON before that rule may
   * nest deeper than protobuf's default limit of 100 messages, so stored contexts are read with a
   * higher one (they are at most {@code MAX_CONTEXT_BYTES}, written by this server).
   */
  static Struct decodeContext(byte[] context) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(context);
      in.setRecursionLimit(STORED_CONTEXT_RECURSION_LIMIT);
      return Struct.parseFrom(in);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("a stored session context is not a Struct", e);
    }
  }

  static RedeemResponse redeemResponse(Session s) {
    RedeemResponse.Builder b =
        RedeemResponse.newBuilder()
            .setSessionId(s.id())
            .setTenantId(s.tenantId())
            .setApiKeyId(s.apiKeyId())
            .setExternalUserId(s.externalUserId())
            .setExternalGroupId(s.externalGroupId())
            .setAudience(s.audience())
            .addAllScopes(s.scopes())
            .setIssueTime(timestamp(s.issueTime()))
            .setExpireTime(timestamp(s.expireTime()))
            .setUsesRemaining(s.usesRemaining());
    if (s.context().length > 0) {
      b.setContext(decodeContext(s.context()));
    }
    return b.build();
  }

  static IntrospectResponse introspectResponse(Session s) {
    return IntrospectResponse.newBuilder()
        .setActive(true)
        .setSessionId(s.id())
        .setTenantId(s.tenantId())
        .setApiKeyId(s.apiKeyId())
        .setExternalUserId(s.externalUserId())
        .setExternalGroupId(s.externalGroupId())
        .setAudience(s.audience())
        .addAllScopes(s.scopes())
        .setOrigin(s.origin())
        .setIssueTime(timestamp(s.issueTime()))
        .setExpireTime(timestamp(s.expireTime()))
        .setUsesRemaining(s.usesRemaining())
        .build();
  }

  static Jwk jwk(SigningKeys.VerificationKey key) {
    return Jwk.newBuilder()
        .setKty("OKP")
        .setCrv("Ed25519")
        .setX(Base64.getUrlEncoder().withoutPadding().encodeToString(key.raw()))
        .setKid(key.kid())
        .setAlg("EdDSA")
        .setUse("sig")
        .build();
  }
}
