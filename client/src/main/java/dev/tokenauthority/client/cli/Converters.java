package dev.tokenauthority.client.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.contract.Durations;
import dev.tokenauthority.client.TenantInfo;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** How option values are read: durations ({@code 300}, {@code 5m}, {@code 30d}), expiries, JSON objects and tenant states. */
final class Converters {

  private Converters() {}

  /**
   * {@code 300} (seconds), {@code 90s}, {@code 5m}, {@code 12h}, {@code 30d}, or ISO-8601
   * ({@code PT5M}): {@link Durations#parseOrSeconds}, the server's grammar. Whole seconds only:
   * the fields these options fill count seconds.
   */
  static Duration duration(String value) {
    return Durations.parseOrSeconds(value)
        .filter(d -> d.getNano() == 0)
        .orElseThrow(() -> new TypeConversionException("'" + value + "' is not a duration (e.g. 300, 90s, 5m, 12h, 30d)"));
  }

  /** A duration option. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return duration(value);
    }
  }

  /** When something expires: an RFC 3339 instant, or a duration from now. */
  record Expiry(Instant at, Duration in) {
    Instant from(Instant now) {
      return at != null ? at : now.plus(in);
    }
  }

  /** {@code 2030-01-31T00:00:00Z} or a duration such as {@code 30d}. */
  static final class ExpiryConverter implements ITypeConverter<Expiry> {
    @Override
    public Expiry convert(String value) {
      if (value.contains("T") && value.contains(":")) {
        try {
          return new Expiry(OffsetDateTime.parse(value).toInstant(), null);
        } catch (DateTimeParseException e) {
          throw new TypeConversionException("'" + value + "' is not an RFC 3339 time (e.g. 2030-01-31T00:00:00Z)");
        }
      }
      try {
        return new Expiry(null, duration(value));
      } catch (TypeConversionException e) {
        throw new TypeConversionException(
            "'" + value + "' is neither an RFC 3339 time (2030-01-31T00:00:00Z) nor a duration (30d, 12h)");
      }
    }
  }

  /** A JSON object, as a protobuf Struct. */
  static final class JsonObjectConverter implements ITypeConverter<Struct> {
    @Override
    public Struct convert(String value) {
      Struct.Builder b = Struct.newBuilder();
      try {
        JsonFormat.parser().merge(value, b);
      } catch (InvalidProtocolBufferException e) {
        throw new TypeConversionException("not a JSON object: " + e.getMessage());
      }
      return b.build();
    }
  }

  /** {@code active}, {@code inactive} or {@code suspended}. */
  static final class StatusConverter implements ITypeConverter<TenantInfo.Status> {
    @Override
    public TenantInfo.Status convert(String value) {
      TenantInfo.Status s = enumValue(TenantInfo.Status.class, value);
      if (s == null || s == TenantInfo.Status.UNKNOWN) {
        throw new TypeConversionException("'" + value + "' is not one of ACTIVE, INACTIVE, SUSPENDED");
      }
      return s;
    }
  }

  /** {@code active}, {@code past_due} or {@code cancelled}. */
  static final class SubscriptionConverter implements ITypeConverter<TenantInfo.Subscription> {
    @Override
    public TenantInfo.Subscription convert(String value) {
      TenantInfo.Subscription s = enumValue(TenantInfo.Subscription.class, value);
      if (s == null || s == TenantInfo.Subscription.UNKNOWN) {
        throw new TypeConversionException("'" + value + "' is not one of ACTIVE, PAST_DUE, CANCELLED");
      }
      return s;
    }
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, String value) {
    try {
      return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
