package dev.tokenauthority.contract;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text form of a duration, read the same way by the server's settings and the CLI's
 * options: a whole number with a unit, {@code 500ms}, {@code 20s}, {@code 5m}, {@code 12h},
 * {@code 30d}, or ISO-8601 ({@code PT5M}, {@code P1D}), case-insensitive. Whether a bare number
 * is allowed is the one thing a caller chooses: the CLI's TTL options take seconds like the
 * fields they fill ({@code 300}), the server's settings want the unit said.
 */
public final class Durations {
  private static final Pattern WITH_UNIT = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  private static final Pattern BARE = Pattern.compile("\\d+");

  private Durations() {}

  /** {@code text} as a duration with a unit or ISO-8601; empty when it is neither. */
  public static Optional<Duration> parse(String text) {
    String v = text.trim().toLowerCase(Locale.ROOT);
    try {
      Matcher m = WITH_UNIT.matcher(v);
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return Optional.of(switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        });
      }
      if (v.startsWith("p")) {
        return Optional.of(Duration.parse(v.toUpperCase(Locale.ROOT)));
      }
    } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
      // not a duration: empty below
    }
    return Optional.empty();
  }

  /** As {@link #parse}, and a bare whole number is seconds ({@code 300}). */
  public static Optional<Duration> parseOrSeconds(String text) {
    String v = text.trim();
    if (BARE.matcher(v).matches()) {
      try {
        return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    return parse(text);
  }
}
