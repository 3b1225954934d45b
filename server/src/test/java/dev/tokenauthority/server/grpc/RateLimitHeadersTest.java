package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A MintSession refused before it took anything is answered with the caller's allowance when it
 * can be read, and answered all the same when it cannot.
 */
class RateLimitHeadersTest {
  private static final Caller CALLER =
      new Caller("key_1", "default", List.of("sessions:mint"), List.of(), Instant.parse("2030-01-01T00:00:00Z"));

  @Test
  void aRefusalBeforeTheLimit_carriesTheAllowanceRead_forTheUserOfTheRequest() throws Exception {
    AtomicReference<Optional<String>> askedFor = new AtomicReference<>();
    RateLimitHeaders headers = new RateLimitHeaders((caller, user) -> {
      askedFor.set(user);
      return CompletableFuture.completedFuture(
          Optional.of(new RateLimiter.Decision(true, 5, 4, Instant.parse("2030-01-01T00:01:00Z"), java.time.Duration.ZERO)));
    });

    TransportMintCall transport = refuse(headers, Status.INVALID_ARGUMENT, MintSessionRequest.newBuilder().setExternalUserId("u1").build());

    Metadata trailers = transport.closed.get(5, TimeUnit.SECONDS);
    assertThat(trailers.get(RateLimitHeaders.LIMIT)).isEqualTo("5");
    assertThat(trailers.get(RateLimitHeaders.REMAINING)).isEqualTo("4");
    assertThat(trailers.get(RateLimitHeaders.RETRY_AFTER)).isNull();
    assertThat(askedFor.get()).contains("u1");
  }

  @Test
  void anAllowanceThatCannotBeRead_leavesTheRefusalAsItIs_neverUnanswered() throws Exception {
    RateLimitHeaders throwing = new RateLimitHeaders((caller, user) -> {
      throw new IllegalStateException("the tenant directory is closed");
    });
    RateLimitHeaders neverAnswering = new RateLimitHeaders((caller, user) -> new CompletableFuture<>());

    for (RateLimitHeaders headers : List.of(throwing, neverAnswering)) {
      TransportMintCall transport = refuse(headers, Status.INVALID_ARGUMENT, null);

      Metadata trailers = transport.closed.get(5, TimeUnit.SECONDS);
      assertThat(trailers.get(RateLimitHeaders.LIMIT)).isNull();
      assertThat(transport.status.get().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
  }

  @Test
  void aStoreFailure_isNotHeldForARead() throws Exception {
    AtomicReference<Boolean> asked = new AtomicReference<>(false);
    RateLimitHeaders headers = new RateLimitHeaders((caller, user) -> {
      asked.set(true);
      return CompletableFuture.completedFuture(Optional.empty());
    });

    TransportMintCall transport = refuse(headers, Status.UNAVAILABLE, MintSessionRequest.getDefaultInstance());

    assertThat(transport.closed.get(5, TimeUnit.SECONDS).get(RateLimitHeaders.LIMIT)).isNull();
    assertThat(asked.get()).isFalse();
  }

  /** A MintSession by {@link #CALLER} whose service refuses it with {@code status} (after {@code request}, if any). */
  private static TransportMintCall refuse(RateLimitHeaders headers, Status status, MintSessionRequest request) {
    TransportMintCall transport = new TransportMintCall();
    AtomicReference<ServerCall<MintSessionRequest, MintSessionResponse>> service = new AtomicReference<>();
    Context withCaller = Context.current().withValue(CallerContext.CALLER, CALLER);
    Context previous = withCaller.attach();
    try {
      ServerCall.Listener<MintSessionRequest> listener = headers.interceptCall(transport, new Metadata(), (call, h) -> {
        service.set(call);
        return new NoListener();
      });
      if (request != null) {
        listener.onMessage(request);
      }
      listener.onHalfClose();
      service.get().close(status, new Metadata());
    } finally {
      withCaller.detach(previous);
    }
    return transport;
  }

  private static final class NoListener extends ServerCall.Listener<MintSessionRequest> {}
}
