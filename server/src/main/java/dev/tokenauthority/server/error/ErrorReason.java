package dev.tokenauthority.server.error;

import dev.tokenauthority.contract.ErrorReasons;

/**
 * The failure reasons of the v1 contract, as the domain throws them: a view of the proto enum
 * {@code tokenauthority.v1.ErrorReason}, which defines them, adding the {@link Kind} that decides
 * the status code at the edge. Each constant is the proto value of the same name (a constant
 * the proto lacks fails as the class loads); its {@link #wireName} is the {@code reason} of the
 * {@code google.rpc.ErrorInfo} (domain {@code tokenauthority}).
 */
public enum ErrorReason {
  API_KEY_REQUIRED(Kind.UNAUTHENTICATED),
  API_KEY_INVALID(Kind.UNAUTHENTICATED),
  API_KEY_REVOKED(Kind.UNAUTHENTICATED),
  API_KEY_EXPIRED(Kind.UNAUTHENTICATED),
  TOKEN_INVALID(Kind.UNAUTHENTICATED),
  TOKEN_EXPIRED(Kind.UNAUTHENTICATED),
  TOKEN_REVOKED(Kind.UNAUTHENTICATED),
  TOKEN_ALREADY_USED(Kind.UNAUTHENTICATED),
  /** A request behind the Envoy sidecar carried no session token at all (seed 003). */
  SESSION_REQUIRED(Kind.UNAUTHENTICATED),
  /**
   * mTLS: the connection's client certificate no longer chains to the client CAs served (they
   * changed after its handshake, or it resumed a session made before).
   */
  CLIENT_CERTIFICATE_UNTRUSTED(Kind.UNAUTHENTICATED),

  SCOPE_NOT_GRANTED(Kind.PERMISSION_DENIED),
  ORIGIN_NOT_ALLOWED(Kind.PERMISSION_DENIED),
  AUDIENCE_MISMATCH(Kind.PERMISSION_DENIED),
  TENANT_INACTIVE(Kind.PERMISSION_DENIED),
  TENANT_SUSPENDED(Kind.PERMISSION_DENIED),
  SUBSCRIPTION_PAST_DUE(Kind.PERMISSION_DENIED),
  SUBSCRIPTION_CANCELLED(Kind.PERMISSION_DENIED),
  MODULE_NOT_ENABLED(Kind.PERMISSION_DENIED),

  INVALID_REQUEST(Kind.INVALID_ARGUMENT),
  INVALID_TTL(Kind.INVALID_ARGUMENT),

  NOT_FOUND(Kind.NOT_FOUND),

  /** The resource to create exists already (a tenant id, say). */
  ALREADY_EXISTS(Kind.ALREADY_EXISTS),

  RATE_LIMITED(Kind.RESOURCE_EXHAUSTED),
  QUOTA_EXCEEDED(Kind.RESOURCE_EXHAUSTED),

  TOKEN_GENERATION_FAILED(Kind.INTERNAL),
  STORE_UNAVAILABLE(Kind.UNAVAILABLE),
  /** A bug: an exception nobody expected. */
  INTERNAL(Kind.INTERNAL);

  /** The class of failure; the gRPC edge maps each to the status code of the same name. */
  public enum Kind {
    UNAUTHENTICATED,
    PERMISSION_DENIED,
    INVALID_ARGUMENT,
    NOT_FOUND,
    ALREADY_EXISTS,
    RESOURCE_EXHAUSTED,
    INTERNAL,
    UNAVAILABLE
  }

  private final Kind kind;
  private final dev.tokenauthority.v1.ErrorReason proto;

  ErrorReason(Kind kind) {
    this.kind = kind;
    this.proto = ErrorReasons.fromWireName(name()).orElseThrow(() -> new IllegalStateException(name() + " is not in the proto's ErrorReason"));
  }

  /** The proto value this reason is. */
  public dev.tokenauthority.v1.ErrorReason proto() {
    return proto;
  }

  /** The name sent in {@code google.rpc.ErrorInfo.reason}, e.g. {@code TOKEN_ALREADY_USED}. */
  public String wireName() {
    return ErrorReasons.wireName(proto);
  }

  public Kind kind() {
    return kind;
  }
}
