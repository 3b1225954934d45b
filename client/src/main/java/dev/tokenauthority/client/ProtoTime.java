package dev.tokenauthority.client;

import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.util.Optional;

/** Conversions between {@code google.protobuf.Timestamp} and {@link Instant}. */
final class ProtoTime {
  private ProtoTime() {}

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /** The instant of a timestamp field, or empty when the field is unset. */
  static Optional<Instant> optional(boolean present, Timestamp t) {
    return present ? Optional.of(instant(t)) : Optional.empty();
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
