package dev.tokenauthority.client;

import dev.tokenauthority.v1.GetJwksResponse;
import java.util.List;
import java.util.Optional;

/** The authority's public signing keys: the active key first, then retired keys still verifying. */
public final class JsonWebKeySet {
  private final GetJwksResponse proto;
  private final List<JsonWebKey> keys;

  JsonWebKeySet(GetJwksResponse proto) {
    this.proto = proto;
    this.keys =
        proto.getKeysList().stream()
            .map(k -> new JsonWebKey(k.getKid(), k.getKty(), k.getCrv(), k.getAlg(), k.getUse(), k.getX()))
            .toList();
  }

  /**
   * A set of exactly these keys, e.g. loaded from a file for offline verification. A member a JWK
   * may leave out (RFC 7517 makes {@code alg} and {@code use} optional) may be null.
   */
  public static JsonWebKeySet of(List<JsonWebKey> keys) {
    GetJwksResponse.Builder b = GetJwksResponse.newBuilder();
    for (JsonWebKey k : keys) {
      b.addKeysBuilder()
          .setKid(orEmpty(k.kid())).setKty(orEmpty(k.kty())).setCrv(orEmpty(k.crv()))
          .setAlg(orEmpty(k.alg())).setUse(orEmpty(k.use())).setX(orEmpty(k.x()));
    }
    return new JsonWebKeySet(b.build());
  }

  private static String orEmpty(String member) {
    return member == null ? "" : member;
  }

  public List<JsonWebKey> keys() {
    return keys;
  }

  /** The key with this {@code kid}, if the set has it. */
  public Optional<JsonWebKey> find(String kid) {
    return keys.stream().filter(k -> k.kid().equals(kid)).findFirst();
  }

  /** The set as it came over the wire; its JSON form is the RFC 7517 {@code {"keys": [...]}}. */
  public GetJwksResponse toProto() {
    return proto;
  }
}
