package dev.tokenauthority.server.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The limiter's decisions, and the whole seconds the headers show of them. */
class RateLimiterTest {
  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private final RateLimiter limiter = new RateLimiter(new MemoryRateLimitStore());

  @Test
  void take_withinTheLimit_admitsAndCountsDown_thenRefusesWithTheWait() {
    RateLimiter.Decision first = limiter.take("k", 3, Duration.ofMinutes(1), NOW).join();
    limiter.take("k", 3, Duration.ofMinutes(1), NOW).join();
    RateLimiter.Decision third = limiter.take("k", 3, Duration.ofMinutes(1), NOW).join();
    RateLimiter.Decision fourth = limiter.take("k", 3, Duration.ofMinutes(1), NOW).join();

    assertThat(first.allowed()).isTrue();
    assertThat(first.remaining()).isEqualTo(2);
    assertThat(third.remaining()).isZero();
    assertThat(fourth.allowed()).isFalse();
    assertThat(fourth.retryAfter()).isEqualTo(Duration.ofSeconds(20));
    assertThat(fourth.retryAfterSeconds()).isEqualTo(20);
    assertThat(fourth.resetEpochSeconds()).isEqualTo(NOW.getEpochSecond() + 60);
  }

  @Test
  void resetEpochSeconds_aFractionOfASecond_roundsUp() {
    RateLimiter.Decision d = new RateLimiter.Decision(true, 1, 0, NOW.plusMillis(1), Duration.ZERO);

    assertThat(d.resetEpochSeconds()).isEqualTo(NOW.getEpochSecond() + 1);
  }

  @Test
  void retryAfterSeconds_underASecond_isOneNeverZero() {
    RateLimiter.Decision d = new RateLimiter.Decision(false, 1, 0, NOW, Duration.ofMillis(1));

    assertThat(d.retryAfterSeconds()).isEqualTo(1);
    assertThat(new RateLimiter.Decision(false, 1, 0, NOW, Duration.ofMillis(1001)).retryAfterSeconds()).isEqualTo(2);
  }
}
