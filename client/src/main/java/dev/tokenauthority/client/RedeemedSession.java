package dev.tokenauthority.client;

import dev.tokenauthority.v1.RedeemResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a redeemed token stands for, as the authority says after consuming one use: the only
 * account of the user, group and context a resource service should trust.
 */
public final class RedeemedSession {
  private final RedeemResponse proto;
  private final Map<String, Object> context;

  RedeemedSession(RedeemResponse proto) {
    this.proto = proto;
    this.context = Structs.toMap(proto.getContext());
  }

  public String sessionId() {
    return proto.getSessionId();
  }

  public String tenantId() {
    return proto.getTenantId();
  }

  /** The API key that minted the session. */
  public String apiKeyId() {
    return proto.getApiKeyId();
  }

  /** The person the token stands for. */
  public String externalUserId() {
    return proto.getExternalUserId();
  }

  /** The user's group, when one was given at mint. */
  public Optional<String> externalGroupId() {
    return nonEmpty(proto.getExternalGroupId());
  }

  /** The audience, when one was given at mint. */
  public Optional<String> audience() {
    return nonEmpty(proto.getAudience());
  }

  public List<String> scopes() {
    return proto.getScopesList();
  }

  /** The context given at mint (empty when none); numbers are {@link Double}s. */
  public Map<String, Object> context() {
    return context;
  }

  public Instant issueTime() {
    return ProtoTime.instant(proto.getIssueTime());
  }

  public Instant expireTime() {
    return ProtoTime.instant(proto.getExpireTime());
  }

  /** Redemptions left after this one. */
  public int usesRemaining() {
    return proto.getUsesRemaining();
  }

  /** The response as it came over the wire, e.g. to print it as JSON. */
  public RedeemResponse toProto() {
    return proto;
  }

  static Optional<String> nonEmpty(String s) {
    return s.isEmpty() ? Optional.empty() : Optional.of(s);
  }

  @Override
  public String toString() {
    return "RedeemedSession[sessionId=" + sessionId() + ", tenantId=" + tenantId() + ", externalUserId="
        + externalUserId() + ", usesRemaining=" + usesRemaining() + "]";
  }
}
