package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.Caller;
import io.grpc.Context;

/**
 * Hands the authenticated {@link Caller}, and the browser origin the call came with (empty for
 * server-to-server calls), from the auth interceptor to the services.
 */
public final class CallerContext {
  static final Context.Key<Caller> CALLER = Context.key("tokenauthority-caller");
  static final Context.Key<String> BROWSER_ORIGIN = Context.keyWithDefault("tokenauthority-browser-origin", "");

  /**
   * Told of the caller as soon as the key is authenticated, even when the call is then refused
   * (a missing scope): lets an interceptor outside authentication, the audit, name the caller.
   */
  interface CallerListener {
    void authenticated(Caller caller);
  }

  static final Context.Key<CallerListener> CALLER_LISTENER = Context.key("tokenauthority-caller-listener");

  private CallerContext() {}

  /** Passes the caller to the listener of the current context, if there is one. */
  static void noteCaller(Caller caller) {
    CallerListener listener = CALLER_LISTENER.get();
    if (listener != null) {
      listener.authenticated(caller);
    }
  }

  /** The caller of the current call; the interceptor guarantees there is one. */
  public static Caller current() {
    Caller caller = CALLER.get();
    if (caller == null) {
      throw new IllegalStateException("no authenticated caller: is the ApiKeyAuthInterceptor installed?");
    }
    return caller;
  }

  /** The {@code origin} header of the current call, empty when it has none. */
  public static String browserOrigin() {
    return BROWSER_ORIGIN.get();
  }
}
