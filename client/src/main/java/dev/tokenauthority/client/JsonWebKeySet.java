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

  /** A set of exactly these keys, e.g. loaded from a file for offline verification. */
  public static JsonWebKeySet of(List<JsonWebKey> keys) {
    GetJwksResponse.Builder b = GetJwksResponse.newBuilder();
    for (JsonWebKey k : keys) {
      b.addKeysBuilder().setKid(k.kid()).setKty(k.kty()).setCrv(k.crv()).setAlg(k.alg()).setUse(k.use()).setX(k.x());
    }
    return new JsonWebKeySet(b.build());
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
