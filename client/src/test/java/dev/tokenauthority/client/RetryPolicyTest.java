package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The backoff arithmetic: full jitter under an exponential ceiling, the cap, RetryInfo, and what is transient. */
class RetryPolicyTest {
  private static final double ALMOST_ONE = 0.999_999;

  private static TokenAuthorityException failure(Status.Code code, String reason, Duration retryAfter) {
    return new TokenAuthorityException(code, reason, "m", Map.of(), retryAfter, Map.of(), null);
  }

  private static final TokenAuthorityException UNAVAILABLE = failure(Status.Code.UNAVAILABLE, "", null);

  @Test
  void ceiling_doublesFromTheInitialBackoff_upToTheCap() {
    RetryPolicy p = RetryPolicy.defaults().withMaxAttempts(10);

    assertThat(p.delayBeforeRetry(1, UNAVAILABLE, ALMOST_ONE).orElseThrow()).isBetween(Duration.ofMillis(99), Duration.ofMillis(100));
    assertThat(p.delayBeforeRetry(2, UNAVAILABLE, ALMOST_ONE).orElseThrow()).isBetween(Duration.ofMillis(199), Duration.ofMillis(200));
    assertThat(p.delayBeforeRetry(3, UNAVAILABLE, ALMOST_ONE).orElseThrow()).isBetween(Duration.ofMillis(399), Duration.ofMillis(400));
    assertThat(p.delayBeforeRetry(9, UNAVAILABLE, ALMOST_ONE).orElseThrow()).isBetween(Duration.ofMillis(4999), Duration.ofSeconds(5));
  }

  @Test
  void fullJitter_canWaitNothingAtAll() {
    assertThat(RetryPolicy.defaults().delayBeforeRetry(3, UNAVAILABLE, 0.0)).contains(Duration.ZERO);
  }

  @Test
  void afterTheLastAttempt_thereIsNoRetry() {
    assertThat(RetryPolicy.defaults().delayBeforeRetry(4, UNAVAILABLE, 0.5)).isEmpty();
    assertThat(RetryPolicy.none().delayBeforeRetry(1, UNAVAILABLE, 0.5)).isEmpty();
  }

  @Test
  void retryInfo_longerThanTheBackoff_isWaitedInFull() {
    TokenAuthorityException limited = failure(Status.Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", Duration.ofSeconds(12));

    assertThat(RetryPolicy.defaults().delayBeforeRetry(1, limited, 0.5)).contains(Duration.ofSeconds(12));
  }

  @Test
  void onlyUnavailableAndRateLimited_areTransient() {
    assertThat(RetryPolicy.isTransient(UNAVAILABLE)).isTrue();
    assertThat(RetryPolicy.isTransient(failure(Status.Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", null))).isTrue();
    assertThat(RetryPolicy.isTransient(failure(Status.Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", null))).isFalse();
    assertThat(RetryPolicy.isTransient(failure(Status.Code.DEADLINE_EXCEEDED, "", null))).isFalse();
    assertThat(RetryPolicy.isTransient(failure(Status.Code.INTERNAL, "INTERNAL", null))).isFalse();
    assertThat(RetryPolicy.isTransient(failure(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", null))).isFalse();
  }

  @Test
  void contradictorySettings_areRefused() {
    assertThatThrownBy(() -> RetryPolicy.defaults().withMaxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.defaults().withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
