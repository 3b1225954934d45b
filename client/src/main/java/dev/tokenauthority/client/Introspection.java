package dev.tokenauthority.client;

import dev.tokenauthority.v1.IntrospectResponse;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Whether a token would redeem now, without consuming a use (RFC 7662 in spirit). For an
 * inactive token only {@link #active()} and {@link #reason()} say anything; the other
 * accessors are empty.
 */
public final class Introspection {
  private final IntrospectResponse proto;

  Introspection(IntrospectResponse proto) {
    this.proto = proto;
  }

  /** True when the token would redeem now (origin and audience checks aside). */
  public boolean active() {
    return proto.getActive();
  }

  /** Why an inactive token is inactive (TOKEN_EXPIRED, TOKEN_ALREADY_USED, ...); empty when active. */
  public Optional<ErrorReason> reason() {
    return proto.getActive() ? Optional.empty() : Optional.of(ErrorReason.of(proto.getReason()));
  }

  /** The reason exactly as the server sent it; empty when active. */
  public String reasonName() {
    return proto.getReason();
  }

  public Optional<String> sessionId() {
    return RedeemedSession.nonEmpty(proto.getSessionId());
  }

  public Optional<String> tenantId() {
    return RedeemedSession.nonEmpty(proto.getTenantId());
  }

  public Optional<String> apiKeyId() {
    return RedeemedSession.nonEmpty(proto.getApiKeyId());
  }

  public Optional<String> externalUserId() {
    return RedeemedSession.nonEmpty(proto.getExternalUserId());
  }

  public Optional<String> externalGroupId() {
    return RedeemedSession.nonEmpty(proto.getExternalGroupId());
  }

  public Optional<String> audience() {
    return RedeemedSession.nonEmpty(proto.getAudience());
  }

  public List<String> scopes() {
    return proto.getScopesList();
  }

  /** The origin the token is bound to, if any. */
  public Optional<String> origin() {
    return RedeemedSession.nonEmpty(proto.getOrigin());
  }

  public Optional<Instant> issueTime() {
    return ProtoTime.optional(proto.hasIssueTime(), proto.getIssueTime());
  }

  public Optional<Instant> expireTime() {
    return ProtoTime.optional(proto.hasExpireTime(), proto.getExpireTime());
  }

  /** Redemptions left; 0 for an inactive token. */
  public int usesRemaining() {
    return proto.getUsesRemaining();
  }

  /** The response as it came over the wire, e.g. to print it as JSON. */
  public IntrospectResponse toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return active()
        ? "Introspection[active, sessionId=" + proto.getSessionId() + ", usesRemaining=" + usesRemaining() + "]"
        : "Introspection[inactive, reason=" + proto.getReason() + "]";
  }
}
