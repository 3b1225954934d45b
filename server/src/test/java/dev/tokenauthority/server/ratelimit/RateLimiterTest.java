package dev.tokenauthority.server.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

  @Test
  void retryAfterSeconds_aFewMicrosecondsOverAWholeSecond_roundsUp() {
    // 19.0003 s: a client told 19 would come back 300 µs early and be refused again.
    assertThat(new RateLimiter.Decision(false, 1, 0, NOW, Duration.ofNanos(19_000_300_000L)).retryAfterSeconds()).isEqualTo(20);
    assertThat(new RateLimiter.Decision(false, 1, 0, NOW, Duration.ofSeconds(19)).retryAfterSeconds()).isEqualTo(19);
  }

  @ParameterizedTest
  @ValueSource(ints = {7_768, 9_999, 100_000_000})
  void take_aLimitTheMicrosecondDoesNotDivide_admitsExactlyTheLimitInABurst(int limit) {
    RateLimiter.Decision first = limiter.take("k", limit, Duration.ofMinutes(1), NOW).join();
    assertThat(first.remaining()).as("after the first call").isEqualTo(limit - 1);
    int admitted = 1;
    while (limiter.take("k", limit, Duration.ofMinutes(1), NOW).join().allowed()) {
      admitted++;
    }
    assertThat(admitted).isEqualTo(limit);
  }

  @Test
  void take_aLimitRaised_appliesAtOnce_notAfterTheOldUsageDrains() {
    assertThat(limiter.take("k", 1, Duration.ofMinutes(1), NOW).join().allowed()).isTrue();
    assertThat(limiter.take("k", 1, Duration.ofMinutes(1), NOW).join().allowed()).isFalse();

    RateLimiter.Decision raised = limiter.take("k", 600, Duration.ofMinutes(1), NOW.plusSeconds(1)).join();

    assertThat(raised.allowed()).isTrue();
    assertThat(raised.remaining()).isEqualTo(599);
  }

  @Test
  void giveBack_undoesOneAdmission() {
    limiter.take("k", 2, Duration.ofMinutes(1), NOW).join();
    limiter.take("k", 2, Duration.ofMinutes(1), NOW).join();
    assertThat(limiter.take("k", 2, Duration.ofMinutes(1), NOW).join().allowed()).isFalse();

    limiter.giveBack("k", 2, Duration.ofMinutes(1)).join();

    assertThat(limiter.take("k", 2, Duration.ofMinutes(1), NOW).join().allowed()).isTrue();
    assertThat(limiter.take("k", 2, Duration.ofMinutes(1), NOW).join().allowed()).isFalse();
  }

  @Test
  void take_afterTheClockSteppedBackAnHour_refusesForOneIntervalAtMost_notTheHour() {
    limiter.take("k", 60, Duration.ofMinutes(1), NOW).join();
    Instant back = NOW.minus(Duration.ofHours(1));

    RateLimiter.Decision refused = limiter.take("k", 60, Duration.ofMinutes(1), back).join();

    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfter()).isLessThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(limiter.take("k", 60, Duration.ofMinutes(1), back.plusSeconds(1)).join().allowed()).isTrue();
  }

  @Test
  void take_aCallWhoseClockReadingIsALittleOlder_isRefused_andChangesNothing() {
    // Concurrent calls reach the bucket out of order (one read the clock before a slow quota read).
    int admitted = 0;
    for (int i = 0; i < 100; i++) {
      admitted += limiter.take("k", 60, Duration.ofMinutes(1), NOW).join().allowed() ? 1 : 0;
    }
    assertThat(admitted).isEqualTo(60);

    assertThat(limiter.take("k", 60, Duration.ofMinutes(1), NOW.minusSeconds(2)).join().allowed()).isFalse();

    assertThat(limiter.take("k", 60, Duration.ofMinutes(1), NOW).join().allowed()).as("still full at the same instant").isFalse();
  }
}
