package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.store.memory.MemoryStore;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which calls the client repeats, against the real server behind an interceptor that refuses
 * the first attempts of a call: only the calls safe to repeat, only on UNAVAILABLE and
 * RATE_LIMITED, never more than the policy's attempts, never past the deadline.
 */
class RetryTest {
  private final Flaky flaky = new Flaky();
  private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private TokenAuthorityServer server;
  private ManagedChannel channel;
  private TokenAuthorityClient setup;
  private String key;

  /** Refuses the next {@code failures} calls with {@code status}, and counts every call per method. */
  private static final class Flaky implements ServerInterceptor {
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile com.google.rpc.Status status;

    void failNext(int failures, com.google.rpc.Status status) {
      this.status = status;
      attempts.clear();
      failuresLeft.set(failures);
    }

    int attempts(String method) {
      return attempts.getOrDefault(method, new AtomicInteger()).get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      attempts.computeIfAbsent(call.getMethodDescriptor().getBareMethodName(), m -> new AtomicInteger()).incrementAndGet();
      if (failuresLeft.getAndDecrement() > 0) {
        StatusRuntimeException e = StatusProto.toStatusRuntimeException(status);
        call.close(e.getStatus(), e.getTrailers());
        return new ServerCall.Listener<>() {};
      }
      return next.startCall(call, headers);
    }
  }

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), Clock.systemUTC());
    String admin = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    server =
        new TokenAuthorityServer(InProcessServerBuilder.forName(name).directExecutor().intercept(flaky), authority, Duration.ofHours(1))
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    setup = TokenAuthorityClient.builder().channel(channel).apiKey(admin).build();
    key =
        setup.createApiKey(
                CreateApiKeyParams.named("all")
                    .scopes("sessions:mint", "sessions:redeem", "keys:read", "keys:write")
                    .build())
            .secret();
  }

  @AfterEach
  void stop() throws Exception {
    scheduler.shutdownNow();
    channel.shutdownNow();
    server.stop(Duration.ofSeconds(1));
  }

  private TokenAuthorityClient client(RetryPolicy policy) {
    return TokenAuthorityClient.builder()
        .channel(channel)
        .apiKey(key)
        .retryPolicy(policy)
        .sleeper(sleeps::add)
        .random(() -> 0.5)
        .build();
  }

  private TokenAuthorityClient client() {
    return client(RetryPolicy.defaults());
  }

  private static com.google.rpc.Status refusal(Code code, String reason, Duration retryAfter) {
    com.google.rpc.Status.Builder s =
        com.google.rpc.Status.newBuilder()
            .setCode(code.getNumber())
            .setMessage("refused by the test")
            .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("tokenauthority").setReason(reason).build()));
    if (retryAfter != null) {
      s.addDetails(
          Any.pack(
              RetryInfo.newBuilder()
                  .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(retryAfter.getSeconds()))
                  .build()));
    }
    return s.build();
  }

  private static com.google.rpc.Status storeUnavailable() {
    return refusal(Code.UNAVAILABLE, "STORE_UNAVAILABLE", null);
  }

  @Test
  void mintSession_unavailableTwice_isRetriedAndSucceeds() {
    TokenAuthorityClient client = client();
    flaky.failNext(2, storeUnavailable());

    MintedSession minted = client.mintSession("rep_8842");

    assertThat(minted.token()).isNotEmpty();
    assertThat(flaky.attempts("MintSession")).isEqualTo(3);
    assertThat(sleeps).hasSize(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Introspect", "ListApiKeys", "GetJwks"})
  void readCalls_unavailableOnce_areRetriedAndSucceed(String method) {
    TokenAuthorityClient client = client();
    String token = client.mintSession("rep_8842").token();
    Map<String, Consumer<TokenAuthorityClient>> calls =
        Map.of(
            "Introspect", c -> assertThat(c.introspect(token).active()).isTrue(),
            "ListApiKeys", c -> assertThat(c.listApiKeys().apiKeys()).isNotEmpty(),
            "GetJwks", c -> assertThat(c.getJwks().keys()).hasSize(1));
    flaky.failNext(1, storeUnavailable());

    calls.get(method).accept(client);

    assertThat(flaky.attempts(method)).isEqualTo(2);
  }

  @Test
  void redeem_unavailable_isNeverRetried() {
    TokenAuthorityClient client = client();
    String token = client.mintSession("rep_8842").token();
    flaky.failNext(1, storeUnavailable());

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> client.redeem(token));

    assertThat(e.reason()).isEqualTo(ErrorReason.STORE_UNAVAILABLE);
    assertThat(flaky.attempts("Redeem")).isEqualTo(1);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void createApiKey_unavailable_isNeverRetried() {
    TokenAuthorityClient client = client();
    flaky.failNext(1, storeUnavailable());

    TokenAuthorityException e =
        catchThrowableOfType(
            TokenAuthorityException.class,
            () -> client.createApiKey(CreateApiKeyParams.named("x").scopes("sessions:mint").build()));

    assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(flaky.attempts("CreateApiKey")).isEqualTo(1);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void revoke_unavailable_isNotRetried() {
    TokenAuthorityClient client = client();
    String sessionId = client.mintSession("rep_8842").sessionId();
    flaky.failNext(1, storeUnavailable());

    catchThrowableOfType(TokenAuthorityException.class, () -> client.revokeSession(sessionId));

    assertThat(flaky.attempts("Revoke")).isEqualTo(1);
  }

  @Test
  void alwaysUnavailable_givesUpAfterTheDefaultFourAttempts() {
    TokenAuthorityClient client = client();
    flaky.failNext(100, storeUnavailable());

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));

    assertThat(e.reason()).isEqualTo(ErrorReason.STORE_UNAVAILABLE);
    assertThat(flaky.attempts("MintSession")).isEqualTo(4);
    assertThat(sleeps).hasSize(3);
  }

  @Test
  void maxAttempts_isConfigurable() {
    TokenAuthorityClient client = client(RetryPolicy.defaults().withMaxAttempts(2));
    flaky.failNext(100, storeUnavailable());

    catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));

    assertThat(flaky.attempts("MintSession")).isEqualTo(2);
  }

  @Test
  void retryPolicyNone_neverRetries() {
    TokenAuthorityClient client = client(RetryPolicy.none());
    flaky.failNext(1, storeUnavailable());

    catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));

    assertThat(flaky.attempts("MintSession")).isEqualTo(1);
  }

  @Test
  void rateLimited_waitsAtLeastTheRetryInfoDelay_thenSucceeds() {
    TokenAuthorityClient client = client();
    flaky.failNext(1, refusal(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", Duration.ofSeconds(2)));

    assertThat(client.mintSession("u").token()).isNotEmpty();

    assertThat(flaky.attempts("MintSession")).isEqualTo(2);
    assertThat(sleeps).singleElement().satisfies(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ofSeconds(2)));
  }

  @Test
  void rateLimited_retryInfoBeyondTheDeadline_failsAtOnce() {
    TokenAuthorityClient client = client(); // deadline 10 s
    flaky.failNext(1, refusal(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", Duration.ofSeconds(30)));

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));

    assertThat(e.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
    assertThat(e.retryAfter()).contains(Duration.ofSeconds(30));
    assertThat(flaky.attempts("MintSession")).isEqualTo(1);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void rateLimited_retryInfoBeyondTheCallersContextDeadline_failsAtOnceWithTheReason() throws Exception {
    // A service calling the authority from inside its own gRPC call, with 500 ms of it left.
    TokenAuthorityClient client = client(); // its own deadline is 10 s
    flaky.failNext(1, refusal(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", Duration.ofSeconds(2)));
    Context.CancellableContext caller = Context.current().withDeadlineAfter(500, TimeUnit.MILLISECONDS, scheduler);

    TokenAuthorityException e;
    try {
      e = caller.call(() -> catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u")));
    } finally {
      caller.cancel(null);
    }

    assertThat(e.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
    assertThat(e.retryAfter()).contains(Duration.ofSeconds(2));
    assertThat(sleeps).isEmpty();
  }

  @Test
  void realSleeper_wakesWhenTheCallersContextIsCancelled_andDoesNotRetry() throws Exception {
    TokenAuthorityClient client =
        TokenAuthorityClient.builder().channel(channel).apiKey(key)
            .retryPolicy(RetryPolicy.defaults().withBackoff(Duration.ofSeconds(5), Duration.ofSeconds(5)))
            .build();
    flaky.failNext(1, storeUnavailable());
    Context.CancellableContext caller = Context.current().withCancellation();
    scheduler.schedule(() -> caller.cancel(null), 200, TimeUnit.MILLISECONDS);
    long start = System.nanoTime();

    TokenAuthorityException e;
    try {
      e = caller.call(() -> catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u")));
    } finally {
      caller.cancel(null);
    }

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
    assertThat(e.reason()).isEqualTo(ErrorReason.STORE_UNAVAILABLE);
    assertThat(flaky.attempts("MintSession")).isEqualTo(1);
  }

  @Test
  void rateLimited_retryInfoOfCenturies_isATokenAuthorityException_notAnOverflow() {
    TokenAuthorityClient client = client();
    flaky.failNext(1, refusal(Code.RESOURCE_EXHAUSTED, "RATE_LIMITED", Duration.ofSeconds(315_576_000_000L)));

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));

    assertThat(e.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void deadline_longerThanADay_isRefusedByTheBuilder() {
    TokenAuthorityClient.Builder builder = TokenAuthorityClient.builder().channel(channel).apiKey(key);
    assertThatThrownBy(() -> builder.deadline(ChronoUnit.FOREVER.getDuration()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most a day");
    assertThat(builder.deadline(Duration.ofDays(1)).build().mintSession("u").token()).isNotEmpty();
  }

  @Test
  void aTransportsInternalWithoutAReason_isRetriedForASafeCall_theServersOwnInternalIsNot() {
    // grpc-java's "http2 exception" for a call a draining server refused: never run, safe to repeat.
    TokenAuthorityClient client = client();
    flaky.failNext(1, com.google.rpc.Status.newBuilder().setCode(Code.INTERNAL.getNumber()).setMessage("http2 exception").build());
    assertThat(client.mintSession("u").token()).isNotEmpty();
    assertThat(flaky.attempts("MintSession")).isEqualTo(2);

    flaky.failNext(1, refusal(Code.INTERNAL, "INTERNAL", null));
    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));
    assertThat(e.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(flaky.attempts("MintSession")).isEqualTo(1);

    flaky.failNext(1, com.google.rpc.Status.newBuilder().setCode(Code.INTERNAL.getNumber()).setMessage("http2 exception").build());
    String token = client.mintSession("u").token();
    flaky.failNext(1, com.google.rpc.Status.newBuilder().setCode(Code.INTERNAL.getNumber()).setMessage("http2 exception").build());
    catchThrowableOfType(TokenAuthorityException.class, () -> client.redeem(token));
    assertThat(flaky.attempts("Redeem")).as("a redeem is never repeated").isEqualTo(1);
  }

  @Test
  void quotaExceeded_isNotRetried() {
    TokenAuthorityClient client = client();
    flaky.failNext(1, refusal(Code.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", null));

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> client.mintSession("u"));

    assertThat(e.reason()).isEqualTo(ErrorReason.QUOTA_EXCEEDED);
    assertThat(flaky.attempts("MintSession")).isEqualTo(1);
  }

  @Test
  void invalidRequest_fromTheServer_isNotRetried() {
    TokenAuthorityClient client = client();
    flaky.failNext(0, storeUnavailable());

    TokenAuthorityException e =
        catchThrowableOfType(
            TokenAuthorityException.class,
            () -> client.mintSession(MintSessionParams.forUser("u").ttl(Duration.ofDays(3)).build()));

    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_TTL);
    assertThat(flaky.attempts("MintSession")).isEqualTo(1);
  }

  @Test
  void realSleeper_retriesAfterActuallyWaiting() {
    TokenAuthorityClient client =
        TokenAuthorityClient.builder()
            .channel(channel)
            .apiKey(key)
            .retryPolicy(RetryPolicy.defaults().withBackoff(Duration.ofMillis(1), Duration.ofMillis(20)))
            .build();
    flaky.failNext(2, storeUnavailable());

    assertThat(client.mintSession("u").token()).isNotEmpty();
    assertThat(flaky.attempts("MintSession")).isEqualTo(3);
  }
}
