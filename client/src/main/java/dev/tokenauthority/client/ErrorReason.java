package dev.tokenauthority.client;

/**
 * Why the authority refused a call: the {@code reason} of the {@code google.rpc.ErrorInfo}
 * (domain {@code tokenauthority}) that every failure carries. A reason this client does not
 * know yet (from a newer server) is {@link #UNKNOWN}; the exception keeps its name.
 */
public enum ErrorReason {
  API_KEY_REQUIRED,
  API_KEY_INVALID,
  API_KEY_REVOKED,
  API_KEY_EXPIRED,
  TOKEN_INVALID,
  TOKEN_EXPIRED,
  TOKEN_REVOKED,
  TOKEN_ALREADY_USED,
  /** Envoy's ext_authz Check found no session token in the request (sent by the sidecar, not by an RPC). */
  SESSION_REQUIRED,

  SCOPE_NOT_GRANTED,
  ORIGIN_NOT_ALLOWED,
  AUDIENCE_MISMATCH,
  TENANT_INACTIVE,
  TENANT_SUSPENDED,
  SUBSCRIPTION_PAST_DUE,
  SUBSCRIPTION_CANCELLED,
  MODULE_NOT_ENABLED,

  INVALID_REQUEST,
  INVALID_TTL,

  NOT_FOUND,
  /** The resource to create exists already (a tenant id, say). */
  ALREADY_EXISTS,

  RATE_LIMITED,
  QUOTA_EXCEEDED,

  TOKEN_GENERATION_FAILED,
  STORE_UNAVAILABLE,
  /** A bug on the server; its message carries a reference to quote to the operator. */
  INTERNAL,

  /**
   * No reason this client knows: a newer server's reason, or a failure with no ErrorInfo at all
   * (the server unreachable, a deadline, a proxy in between).
   */
  UNKNOWN;

  /** The reason named {@code name}, or {@link #UNKNOWN}. */
  public static ErrorReason of(String name) {
    if (name == null || name.isEmpty() || name.equals(UNKNOWN.name())) {
      return UNKNOWN;
    }
    try {
      return valueOf(name);
    } catch (IllegalArgumentException e) {
      return UNKNOWN;
    }
  }
}
