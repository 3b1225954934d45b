package dev.tokenauthority.server.config;

import dev.tokenauthority.contract.Durations;
import java.time.Duration;
import picocli.CommandLine;

/**
 * How the server's options read their text (whole numbers, ports, {@code --http-port off},
 * durations), and the range checks several options share; a value that does not read is
 * refused with one line naming what it should be.
 */
public final class OptionConverters {
  /** {@code --http-port off}. */
  public static final int HTTP_OFF = -1;

  private OptionConverters() {}

  /** Reads a whole number. */
  public static final class IntConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a whole number");
      }
    }
  }

  /** Reads a port number, 0 to 65535, or {@code off} ({@link #HTTP_OFF}). */
  public static final class HttpPortConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      if (value.trim().equalsIgnoreCase("off")) {
        return HTTP_OFF;
      }
      try {
        return new PortConverter().convert(value);
      } catch (CommandLine.TypeConversionException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a port number (0-65535) or off");
      }
    }
  }

  /** Reads {@code on} or {@code off} (also {@code true} or {@code false}), in any case. */
  public static final class OnOffConverter implements CommandLine.ITypeConverter<Boolean> {
    @Override
    public Boolean convert(String value) {
      return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "on", "true" -> true;
        case "off", "false" -> false;
        default -> throw new CommandLine.TypeConversionException("'" + value + "' is not on or off");
      };
    }
  }

  /** Reads a port number, 0 to 65535. */
  public static final class PortConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        int port = Integer.parseInt(value.trim());
        if (port >= 0 && port <= 65535) {
          return port;
        }
      } catch (NumberFormatException e) {
        // the message below
      }
      throw new CommandLine.TypeConversionException("'" + value + "' is not a port number (0-65535)");
    }
  }

  /** Reads {@code 20s}, {@code 500ms}, {@code 2m} or ISO-8601 {@code PT20S}: {@link Durations#parse}, a unit required. */
  public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Durations.parse(value).orElseThrow(() ->
          new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 20s, 500ms or 2m"));
    }
  }

  /** @throws SettingException naming {@code option} when {@code value} is 0 or less */
  public static void requirePositive(String option, int value) {
    if (value <= 0) {
      throw new SettingException(option, "must be positive, not " + value);
    }
  }

  /** @throws SettingException naming {@code option} when {@code value} is zero or negative */
  public static void requirePositive(String option, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new SettingException(option, "must be positive");
    }
  }
}
