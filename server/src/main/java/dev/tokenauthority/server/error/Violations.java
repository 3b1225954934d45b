package dev.tokenauthority.server.error;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the invalid fields of one request, so that the caller learns of all of them at
 * once (one {@code FieldViolation} each), then throws a single INVALID_REQUEST.
 */
public final class Violations {
  private final List<FieldViolation> violations = new ArrayList<>();

  /** Records a violation of {@code field} unless {@code ok}. */
  public Violations check(boolean ok, String field, String description) {
    if (!ok) {
      add(field, description);
    }
    return this;
  }

  /**
   * Records a violation of {@code field}, unless the field already has one: the contract is one
   * {@code FieldViolation} per field, and the first problem found is the one to report.
   */
  public Violations add(String field, String description) {
    if (violations.stream().noneMatch(v -> v.field().equals(field))) {
      violations.add(new FieldViolation(field, description));
    }
    return this;
  }

  /**
   * Checks a text field: its length in code points, and no control characters (a NUL, a
   * newline or an escape sequence is never part of a name or id, and would forge log lines; a
   * bidirectional override or isolate makes a name read otherwise than it is, as
   * {@code prod\u202Egnp.exe} displays as {@code prodexe.png}).
   */
  public Violations text(String value, String field, int min, int max) {
    int n = value.codePointCount(0, value.length());
    if (hasControlCharacter(value)) {
      add(field, "must not contain control characters (bidirectional overrides and isolates included)");
    } else if (n < min) {
      add(field, min == 1 ? "is required" : "must have at least " + min + " characters");
    } else if (n > max) {
      add(field, "must have at most " + max + " characters");
    }
    return this;
  }

  private static boolean hasControlCharacter(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c) || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069')) {
        return true;
      }
    }
    return false;
  }

  /** Checks that a text field, when given, shows something ({@link #isBlank}); an empty one is {@link #text}'s to judge. */
  public Violations notBlank(String value, String field) {
    return check(value.isEmpty() || !isBlank(value), field, "must not be blank");
  }

  /** A list's page size when the request gives none (0). */
  public static final int DEFAULT_PAGE_SIZE = 50;
  /** The largest page a list returns; a larger {@code page_size} is this one (AIP-158). */
  public static final int MAX_PAGE_SIZE = 1000;

  /**
   * Checks a list's {@code page_size} and returns the page size to use: the default for 0, the
   * maximum for anything above it (AIP-158: coerced, not refused); below zero is a violation.
   */
  public int pageSize(int requested) {
    check(requested >= 0, "page_size", "must not be negative (0 means the default, " + DEFAULT_PAGE_SIZE
        + "; at most " + MAX_PAGE_SIZE + " are returned)");
    return requested <= 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  }

  /**
   * Whether text shows nothing: only whitespace, spaces of any kind (a no-break space) and
   * invisible format characters (a zero-width space, a direction mark). True for "".
   */
  public static boolean isBlank(String value) {
    for (int i = 0; i < value.length(); ) {
      int c = value.codePointAt(i);
      if (!(Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.getType(c) == Character.FORMAT)) {
        return false;
      }
      i += Character.charCount(c);
    }
    return true;
  }

  public boolean isEmpty() {
    return violations.isEmpty();
  }

  /** Throws INVALID_REQUEST naming every recorded field, if any. */
  public void throwIfAny() {
    throwIfAny(ErrorReason.INVALID_REQUEST);
  }

  /** Throws {@code reason} (INVALID_REQUEST or INVALID_TTL) naming every recorded field, if any. */
  public void throwIfAny(ErrorReason reason) {
    if (!violations.isEmpty()) {
      throw AuthorityException.invalid(reason, violations);
    }
  }
}
