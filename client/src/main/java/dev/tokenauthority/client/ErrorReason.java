package dev.tokenauthority.client;

import dev.tokenauthority.contract.ErrorReasons;

/**
 * Why the authority refused a call: the {@code reason} of the {@code google.rpc.ErrorInfo}
 * (domain {@code tokenauthority}) that every failure carries. Each constant but {@link #UNKNOWN}
 * is the value of the same name of the proto enum {@code tokenauthority.v1.ErrorReason}, which
 * defines them for the server and this client alike. A reason this client does not know yet
 * (from a newer server) is {@link #UNKNOWN}; the exception keeps its name.
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
  /**
   * mTLS: this connection's client certificate is no longer trusted by the server (its client
   * CAs changed after the handshake); reconnect with a certificate of a CA it trusts now.
   */
  CLIENT_CERTIFICATE_UNTRUSTED,

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

  private final dev.tokenauthority.v1.ErrorReason proto;

  ErrorReason() {
    // A constant the proto lacks fails as the class loads, so the two cannot drift apart.
    this.proto = name().equals("UNKNOWN") ? null : ErrorReasons.fromWireName(name()).orElseThrow(() -> new IllegalStateException(name() + " is not in the proto's ErrorReason"));
  }

  /** The reason named {@code name} on the wire, or {@link #UNKNOWN}. */
  public static ErrorReason of(String name) {
    return ErrorReasons.fromWireName(name).map(ErrorReason::fromProto).orElse(UNKNOWN);
  }

  /** This client's view of a proto reason; {@link #UNKNOWN} for one it has no constant for. */
  static ErrorReason fromProto(dev.tokenauthority.v1.ErrorReason proto) {
    for (ErrorReason r : values()) {
      if (r.proto == proto) {
        return r;
      }
    }
    return UNKNOWN;
  }
}
