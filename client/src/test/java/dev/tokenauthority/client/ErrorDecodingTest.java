package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.ManagedChannel;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Decoding what the real server does not send today, from a fake server: reasons this client
 * does not know, RetryInfo, ErrorInfo metadata, a server that echoes secrets, and no server at all.
 */
class ErrorDecodingTest {
  private static final String API_KEY = new dev.tokenauthority.server.apikey.ApiKeySecrets("sk_").generate();
  private static final String TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl";

  private final AtomicReference<com.google.rpc.Status> reply = new AtomicReference<>();
  private final AtomicReference<String> authorization = new AtomicReference<>();
  private Server server;
  private ManagedChannel channel;
  private TokenAuthorityClient client;

  /** Answers every Redeem with the status in {@link #reply}. */
  private final class FakeAuthority extends TokenAuthorityGrpc.TokenAuthorityImplBase {
    @Override
    public void redeem(RedeemRequest request, StreamObserver<RedeemResponse> observer) {
      observer.onError(StatusProto.toStatusRuntimeException(reply.get()));
    }
  }

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor recordAuthorization =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            authorization.set(headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)));
            return next.startCall(call, headers);
          }
        };
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(new FakeAuthority(), recordAuthorization))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client = TokenAuthorityClient.builder().channel(channel).apiKey(API_KEY).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private static com.google.rpc.Status.Builder status(Code code, String message, String reason) {
    return com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("tokenauthority").setReason(reason).build()));
  }

  private TokenAuthorityException redeemFailure() {
    return catchThrowableOfType(TokenAuthorityException.class, () -> client.redeem(TOKEN));
  }

  @Test
  void apiKey_travelsAsBearerCredentials() {
    reply.set(status(Code.UNAUTHENTICATED, "no", "TOKEN_INVALID").build());
    redeemFailure();

    assertThat(authorization.get()).isEqualTo("Bearer " + API_KEY);
  }

  @Test
  void unknownReason_isUnknownWithTheNameKept() {
    reply.set(status(Code.PERMISSION_DENIED, "a reason from a newer server", "BRAND_NEW_REASON").build());

    TokenAuthorityException e = redeemFailure();

    assertThat(e.reason()).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(e.reasonName()).isEqualTo("BRAND_NEW_REASON");
    assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getMessage()).isEqualTo("BRAND_NEW_REASON: a reason from a newer server");
  }

  @Test
  void errorInfoOfAnotherDomain_isNotTakenForOurs() {
    reply.set(
        com.google.rpc.Status.newBuilder()
            .setCode(Code.UNAVAILABLE.getNumber())
            .setMessage("upstream connect error")
            .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("proxy.example.com").setReason("TOKEN_ALREADY_USED").build()))
            .build());

    TokenAuthorityException e = redeemFailure();

    assertThat(e.reason()).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(e.reasonName()).isEmpty();
    assertThat(e.headline()).isEqualTo("UNAVAILABLE");
  }

  @Test
  void rateLimited_carriesRetryAfterAndMetadata() {
    reply.set(
        status(Code.RESOURCE_EXHAUSTED, "too many mints", "RATE_LIMITED")
            .setDetails(
                0,
                Any.pack(
                    ErrorInfo.newBuilder()
                        .setDomain("tokenauthority")
                        .setReason("RATE_LIMITED")
                        .putMetadata("subject", "api_key:key_1")
                        .build()))
            .addDetails(
                Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(7).setNanos(500_000_000)).build()))
            .build());

    TokenAuthorityException e = redeemFailure();

    assertThat(e.reason()).isEqualTo(ErrorReason.RATE_LIMITED);
    assertThat(e.retryAfter()).contains(Duration.ofMillis(7500));
    assertThat(e.metadata()).containsEntry("subject", "api_key:key_1");
  }

  @Test
  void serverEchoingSecrets_theyAreRedactedEverywhere() {
    reply.set(
        status(Code.INVALID_ARGUMENT, "bad token " + TOKEN + " from key " + API_KEY, "INVALID_REQUEST")
            .addDetails(
                Any.pack(
                    BadRequest.newBuilder()
                        .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField("token").setDescription("was " + TOKEN))
                        .build()))
            .build());

    TokenAuthorityException e = redeemFailure();

    String everything = e + "\n" + e.serverMessage() + "\n" + e.fieldViolations();
    assertThat(everything).doesNotContain(TOKEN).doesNotContain(API_KEY).contains("[redacted]");
    assertThat(e.fieldViolations()).containsEntry("token", "was [redacted]");
  }

  @Test
  void apiKeyTooShortToBeReal_isNotScrubbedOutOfOrdinaryWords() {
    reply.set(status(Code.UNAVAILABLE, "io exception", "STORE_UNAVAILABLE").build());
    TokenAuthorityClient shortKey = TokenAuthorityClient.builder().channel(channel).apiKey("x").build();

    TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, () -> shortKey.redeem(TOKEN));

    assertThat(e.serverMessage()).isEqualTo("io exception");
  }

  @Test
  void noServerListening_isUnavailableWithoutReason() throws Exception {
    int freePort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      freePort = s.getLocalPort();
    }
    try (TokenAuthorityClient unreachable =
        TokenAuthorityClient.builder()
            .target("127.0.0.1:" + freePort)
            .plaintext()
            .apiKey(API_KEY)
            .retryPolicy(RetryPolicy.none())
            .build()) {
      TokenAuthorityException e = catchThrowableOfType(TokenAuthorityException.class, unreachable::getJwks);

      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.reason()).isEqualTo(ErrorReason.UNKNOWN);
      assertThat(e.headline()).isEqualTo("UNAVAILABLE");
      assertThat(e.toString()).doesNotContain(API_KEY);
    }
  }
}
