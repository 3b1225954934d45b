package dev.tokenauthority.client;

import dev.tokenauthority.v1.ApiKey;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The metadata of an API key; never its secret. */
public final class ApiKeyInfo {
  private final ApiKey proto;

  ApiKeyInfo(ApiKey proto) {
    this.proto = proto;
  }

  public String id() {
    return proto.getId();
  }

  public String tenantId() {
    return proto.getTenantId();
  }

  public String name() {
    return proto.getName();
  }

  public List<String> scopes() {
    return proto.getScopesList();
  }

  public List<String> allowedOrigins() {
    return proto.getAllowedOriginsList();
  }

  public Instant createTime() {
    return ProtoTime.instant(proto.getCreateTime());
  }

  /** When the key stops working; empty means never. */
  public Optional<Instant> expireTime() {
    return ProtoTime.optional(proto.hasExpireTime(), proto.getExpireTime());
  }

  /** When the key last authenticated a call (recorded at most once a minute). */
  public Optional<Instant> lastUsedTime() {
    return ProtoTime.optional(proto.hasLastUsedTime(), proto.getLastUsedTime());
  }

  /** The secret's prefix and last 4 characters, e.g. {@code sk_...a1b2}. */
  public String hint() {
    return proto.getHint();
  }

  /** The metadata as it came over the wire, e.g. to print it as JSON. */
  public ApiKey toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return "ApiKeyInfo[id=" + id() + ", name=" + name() + ", tenantId=" + tenantId() + ", scopes=" + scopes() + "]";
  }
}
