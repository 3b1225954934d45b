package dev.tokenauthority.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Optional;

/**
 * When and how long {@link TokenAuthorityClient} waits before repeating a call that is safe to
 * repeat (MintSession, Introspect, ListApiKeys, GetJwks, GetTenant, ListTenants; never Redeem,
 * CreateApiKey or another write). It retries on UNAVAILABLE, on RATE_LIMITED and on a
 * transport's INTERNAL without a reason ({@link #isTransient}), with
 * exponential backoff and full jitter, waiting at least the server's RetryInfo delay; a retry
 * never goes past the call's deadline. Immutable.
 */
public final class RetryPolicy {
  private static final RetryPolicy DEFAULTS = new RetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(5));
  private static final RetryPolicy NONE = new RetryPolicy(1, Duration.ofMillis(100), Duration.ofSeconds(5));

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;

  private RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, not " + maxAttempts);
    }
    if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("need 0 < initialBackoff <= maxBackoff");
    }
    this.maxAttempts = maxAttempts;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
  }

  /** Up to 4 attempts, backoff from 100 ms doubling up to 5 s. */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /** One attempt: never retry. */
  public static RetryPolicy none() {
    return NONE;
  }

  /** This policy with at most {@code maxAttempts} attempts per call, the first included. */
  public RetryPolicy withMaxAttempts(int maxAttempts) {
    return new RetryPolicy(maxAttempts, initialBackoff, maxBackoff);
  }

  /** This policy with backoff starting at {@code initial} and doubling up to {@code max}. */
  public RetryPolicy withBackoff(Duration initial, Duration max) {
    return new RetryPolicy(maxAttempts, initial, max);
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  /**
   * Whether this failure may go away on its own: UNAVAILABLE, RATE_LIMITED, or an INTERNAL without
   * a reason. The server's own internal errors always carry one; without it, the failure is the
   * HTTP/2 transport's, as when grpc-java reports a call refused by a draining server's GOAWAY as
   * {@code INTERNAL: http2 exception}: the server never ran it (deployment.md, Shutdown).
   */
  public static boolean isTransient(TokenAuthorityException e) {
    return e.code() == Status.Code.UNAVAILABLE
        || (e.code() == Status.Code.RESOURCE_EXHAUSTED && e.reason() == ErrorReason.RATE_LIMITED)
        || (e.code() == Status.Code.INTERNAL && e.reasonName().isEmpty());
  }

  /**
   * How long to wait before the next attempt, after {@code failedAttempts} attempts of a call
   * that is safe to repeat failed, the last with {@code e}; empty when it must not be retried.
   *
   * @param random a number in [0, 1) that picks the jittered delay
   */
  Optional<Duration> delayBeforeRetry(int failedAttempts, TokenAuthorityException e, double random) {
    if (failedAttempts >= maxAttempts || !isTransient(e)) {
      return Optional.empty();
    }
    // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, ceiling].
    long ceiling = initialBackoff.toNanos();
    for (int i = 1; i < failedAttempts && ceiling < maxBackoff.toNanos(); i++) {
      ceiling *= 2;
    }
    ceiling = Math.min(ceiling, maxBackoff.toNanos());
    Duration delay = Duration.ofNanos((long) (ceiling * random));
    if (e.retryAfter().isPresent() && e.retryAfter().get().compareTo(delay) > 0) {
      delay = e.retryAfter().get();
    }
    return Optional.of(delay);
  }

  @Override
  public String toString() {
    return "RetryPolicy[maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff + ", maxBackoff=" + maxBackoff + "]";
  }
}
