package dev.tokenauthority.server.error;

/**
 * The fixed set of failure reasons of the v1 contract. Each one is sent as the
 * {@code reason} of a {@code google.rpc.ErrorInfo} with domain {@code tokenauthority};
 * its {@link Kind} decides the gRPC status code at the edge.
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
  STORE_UNAVAILABLE(Kind.UNAVAILABLE);

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

  ErrorReason(Kind kind) {
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
