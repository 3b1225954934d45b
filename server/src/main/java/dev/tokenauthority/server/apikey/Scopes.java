package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.error.Violations;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The scopes the authority itself checks, and the rules every scope follows. A key may also
 * carry scopes of the caller's own (e.g. {@code chat:write}) to hand on to its sessions.
 */
public final class Scopes {
  /** Includes every other scope, in every tenant. */
  public static final String ADMIN = "admin";
  public static final String SESSIONS_MINT = "sessions:mint";
  public static final String SESSIONS_REDEEM = "sessions:redeem";
  public static final String KEYS_READ = "keys:read";
  public static final String KEYS_WRITE = "keys:write";

  /** Lowercase letters, digits and {@code : . _ -}, starting with a letter, at most 64 long. */
  public static final Pattern SYNTAX = Pattern.compile("[a-z][a-z0-9:._-]{0,63}");

  public static final int MAX_PER_REQUEST = 32;

  private Scopes() {}

  /**
   * Checks requested scopes against {@link #SYNTAX} and {@link #MAX_PER_REQUEST}, recording each
   * bad one in {@code v}; returns the good ones de-duplicated, in their order.
   */
  public static List<String> validate(List<String> requested, String field, Violations v) {
    v.check(requested.size() <= MAX_PER_REQUEST, field, "at most " + MAX_PER_REQUEST + " scopes");
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (int i = 0; i < requested.size() && i < MAX_PER_REQUEST; i++) {
      String scope = requested.get(i);
      if (SYNTAX.matcher(scope).matches()) {
        out.add(scope);
      } else {
        v.add(field + "[" + i + "]", "a scope is 1-64 lowercase letters, digits or ':._-', starting with a letter");
      }
    }
    return List.copyOf(out);
  }

  /** Whether a holder of {@code held} may act with {@code wanted}. */
  public static boolean grants(Collection<String> held, String wanted) {
    return held.contains(ADMIN) || held.contains(wanted);
  }
}
