package dev.tokenauthority.server.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock that stands still until a test sets or advances it, so tests move time instead of sleeping. */
public final class TestClock extends Clock {
  /** A whole second, so that tokens' second-precision times equal the clock's. */
  public static final Instant DEFAULT_START = Instant.parse("2030-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  public TestClock() {
    this(DEFAULT_START);
  }

  public TestClock(Instant start) {
    this(new AtomicReference<>(start), ZoneOffset.UTC);
  }

  private TestClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /** Moves the clock to {@code instant}, forwards or backwards. */
  public void set(Instant instant) {
    now.set(instant);
  }

  /** Moves the clock forwards by {@code amount} and returns the new time. */
  public Instant advance(Duration amount) {
    return now.updateAndGet(t -> t.plus(amount));
  }

  /** Moves the clock forwards by {@code seconds} and returns the new time. */
  public Instant advanceSeconds(long seconds) {
    return advance(Duration.ofSeconds(seconds));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A view in another zone that shares this clock's time (setting one moves both). */
  @Override
  public Clock withZone(ZoneId zone) {
    return new TestClock(now, zone);
  }
}
