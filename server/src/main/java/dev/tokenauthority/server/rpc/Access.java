package dev.tokenauthority.server.rpc;

import dev.tokenauthority.server.apikey.Caller;
import java.util.Map;

/**
 * Who may call an RPC: nobody needs a key ({@link Open}), any valid key ({@link AnyKey}), a key
 * with one scope ({@link Scope}), or a scope that depends on what the request targets
 * ({@link ByTarget}, Revoke's {@code api_key_id}, {@code session_id} or {@code token}).
 */
public sealed interface Access {
  /** Health and reflection: served without an API key. */
  record Open() implements Access {}

  /** Any valid API key, whatever its scopes. */
  record AnyKey() implements Access {}

  /** A key holding {@code scope} (or admin). */
  record Scope(String scope) implements Access {}

  /**
   * A key holding the scope of the target the request names; the service checks it once it
   * knows the target, through {@link #requireFor}.
   */
  record ByTarget(Map<String, String> scopeByTarget) implements Access {
    public ByTarget {
      scopeByTarget = Map.copyOf(scopeByTarget);
    }

    /**
     * Throws SCOPE_NOT_GRANTED unless {@code caller} holds the scope of {@code target}.
     *
     * @throws IllegalArgumentException for a target this rule does not name (a bug)
     */
    public void requireFor(Caller caller, String target) {
      String scope = scopeByTarget.get(target);
      if (scope == null) {
        throw new IllegalArgumentException("no scope for the target " + target);
      }
      caller.require(scope);
    }
  }

  /**
   * Checks what can be checked before the request is read: the scope of {@link Scope}; nothing
   * for the others ({@link ByTarget} is checked by the service).
   */
  default void checkCaller(Caller caller) {
    if (this instanceof Scope s) {
      caller.require(s.scope());
    }
  }

  /** Whether a call needs an authenticated API key at all. */
  default boolean needsKey() {
    return !(this instanceof Open);
  }
}
