package dev.tokenauthority.server.grpc;

import static dev.tokenauthority.server.testing.InProcessAuthority.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Oversized and malformed requests, and that no error ever echoes a secret or a token. */
class BadInputTest {
  private static final int OVER_LIMIT = 300 * 1024;

  private InProcessAuthority ta;

  @BeforeEach
  void setUp() {
    ta = InProcessAuthority.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private static Struct hugeContext() {
    return Struct.newBuilder().putFields("blob", Value.newBuilder().setStringValue("x".repeat(OVER_LIMIT)).build()).build();
  }

  private static void assertRefusedAsTooLarge(StatusRuntimeException e) {
    assertThat(e).as("an oversized request must be refused").isNotNull();
    assertThat(e.getStatus().getCode()).isIn(Code.RESOURCE_EXHAUSTED, Code.INVALID_ARGUMENT);
  }

  @Test
  void mintSession_300KbContextInProcess_isRefusedNotInternal() {
    String minter = ta.createKey("sessions:mint");
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class,
            () -> ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setContext(hugeContext()).build()));
    assertRefusedAsTooLarge(e);
  }

  @Test
  void overNetwork_requestsOver256KiB_areResourceExhausted() throws Exception {
    MemoryStore store = new MemoryStore();
    Authority authority = new Authority(store, Authority.Settings.defaults(), new TestClock());
    String admin = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    TokenAuthorityServer server =
        new TokenAuthorityServer(
            NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)), authority, Duration.ofHours(1));
    server.start();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(), server.port()).usePlaintext().build();
    try {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + admin);
      TokenAuthorityBlockingStub stub =
          TokenAuthorityGrpc.newBlockingStub(channel)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
              .withDeadlineAfter(10, TimeUnit.SECONDS);

      // Just under the limit still reaches the service, which refuses the context by its own rule.
      StatusRuntimeException under =
          catchThrowableOfType(StatusRuntimeException.class,
              () -> stub.mintSession(MintSessionRequest.newBuilder()
                  .setExternalUserId("u")
                  .setContext(Struct.newBuilder().putFields("blob", Value.newBuilder().setStringValue("x".repeat(200 * 1024)).build()))
                  .build()));
      assertThat(under.getStatus().getCode()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(errorInfo(under).getReason()).isEqualTo("INVALID_REQUEST");

      StatusRuntimeException mint =
          catchThrowableOfType(StatusRuntimeException.class,
              () -> stub.mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").setContext(hugeContext()).build()));
      assertThat(mint.getStatus().getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED);

      StatusRuntimeException redeem =
          catchThrowableOfType(StatusRuntimeException.class,
              () -> stub.redeem(RedeemRequest.newBuilder().setToken("x".repeat(OVER_LIMIT)).build()));
      assertThat(redeem.getStatus().getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED);

      // The server is fine afterwards.
      assertThat(stub.getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isEqualTo(1);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop(Duration.ofSeconds(1));
      store.close();
    }
  }

  @Test
  void mintSession_malformedProtobufBytes_isRefusedAndServerKeepsServing() {
    MethodDescriptor<byte[], byte[]> raw =
        dev.tokenauthority.server.testing.RawBytes.unary(TokenAuthorityGrpc.getMintSessionMethod().getFullMethodName());
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ta.adminSecret());
    io.grpc.Channel channel =
        io.grpc.ClientInterceptors.intercept(ta.channel(), MetadataUtils.newAttachHeadersInterceptor(headers));
    // Field 1 (a string) claims 100 bytes and carries 3: truncated.
    byte[] garbage = {0x0a, 0x64, 'a', 'b', 'c'};
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class,
            () -> ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), garbage));
    assertThat(e).as("a malformed request must be refused").isNotNull();
    assertThat(e.getStatus().getCode()).isEqualTo(Code.INVALID_ARGUMENT);
    assertThat(errorInfo(e).getReason()).isEqualTo("INVALID_REQUEST");
    assertThat(String.valueOf(e.getStatus().getDescription())).doesNotContain(ta.adminSecret());
    assertThat(ta.admin().getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isEqualTo(1);
  }

  @Test
  void errorMessages_neverContainASecretOrAToken() {
    CreateApiKeyResponse minterKey =
        ta.createKey(CreateApiKeyRequest.newBuilder().setName("m").addScopes("sessions:mint").addAllowedOrigins("https://app.example.com").build());
    String minter = minterKey.getSecret();
    String redeemer = ta.createKey("sessions:redeem");
    CreateApiKeyResponse expiring =
        ta.createKey(CreateApiKeyRequest.newBuilder()
            .setName("e")
            .addScopes("sessions:redeem")
            .setExpireTime(Timestamp.newBuilder().setSeconds(ta.clock().instant().getEpochSecond() + 10))
            .build());
    CreateApiKeyResponse revoked = ta.createKey(CreateApiKeyRequest.newBuilder().setName("r").addScopes("sessions:redeem").build());
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(revoked.getApiKey().getId()).build());
    MintSessionResponse used = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setAudience("chatbot").build());
    ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(used.getToken()).build());
    MintSessionResponse bound = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setOrigin("https://app.example.com").build());
    MintSessionResponse fresh = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("u").setAudience("chatbot").build());
    String typo = minter.substring(0, minter.length() - 1) + (minter.endsWith("a") ? "b" : "a");
    String secretBody = minter.substring(3, minter.length() - 6);
    ta.clock().advanceSeconds(11);

    List<Supplier<Object>> calls = new ArrayList<>();
    calls.add(() -> ta.stub(typo).getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.withAuthorization("Basic " + minter).getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.withAuthorization(minter).getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.stub(minter + "x").getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.stub(revoked.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.stub(expiring.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.stub(fresh.getToken()).getJwks(GetJwksRequest.getDefaultInstance()));
    calls.add(() -> ta.stub(redeemer).mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").build()));
    calls.add(() -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(used.getToken()).build()));
    calls.add(() -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(bound.getToken()).setOrigin("https://evil.example").build()));
    calls.add(() -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(fresh.getToken()).setAudience("billing").build()));
    calls.add(() -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(fresh.getToken() + "x").build()));
    calls.add(() -> ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(fresh.getToken().replace('.', '!')).build()));
    calls.add(() -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setToken(fresh.getToken() + "x").build()));
    calls.add(() -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setApiKeyId(minter).build()));
    calls.add(() -> ta.stub(minter).revoke(RevokeRequest.newBuilder().setSessionId(fresh.getToken()).build()));
    calls.add(() -> ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(minter).build()));
    calls.add(() -> ta.admin().revoke(RevokeRequest.newBuilder().setSessionId(fresh.getToken()).build()));
    calls.add(() -> ta.stub(minter).mintSession(MintSessionRequest.newBuilder().setExternalUserId(minter + "x".repeat(300)).setOrigin(fresh.getToken()).build()));
    calls.add(() -> ta.stub(minter).mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").addScopes(minter).build()));
    calls.add(() -> ta.stub(minter).mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").setAudience(minter + "x".repeat(100)).build()));
    calls.add(() -> ta.admin().createApiKey(CreateApiKeyRequest.newBuilder().setName(minter + "x".repeat(100)).addScopes("sessions:mint").build()));
    calls.add(() -> ta.admin().createApiKey(CreateApiKeyRequest.newBuilder().setName("n").addScopes("sessions:mint").setTenantId(minter).build()));
    calls.add(() -> ta.admin().createApiKey(CreateApiKeyRequest.newBuilder().setName("n").addScopes("sessions:mint").addAllowedOrigins(fresh.getToken()).build()));
    calls.add(() -> ta.admin().listApiKeys(dev.tokenauthority.v1.ListApiKeysRequest.newBuilder().setPageToken(minter).build()));

    List<String> forbidden =
        List.of(minter, redeemer, ta.adminSecret(), revoked.getSecret(), expiring.getSecret(), typo, secretBody,
            used.getToken(), bound.getToken(), fresh.getToken(), fresh.getToken().split("\\.")[2]);
    int failures = 0;
    for (Supplier<Object> call : calls) {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::get);
      if (e == null) {
        continue;
      }
      failures++;
      assertThat(e.getStatus().getCode()).isNotIn(Code.INTERNAL, Code.UNKNOWN);
      String message = String.valueOf(e.getStatus().getDescription());
      for (String secret : forbidden) {
        assertThat(message).as("message of %s", e.getStatus().getCode()).doesNotContain(secret);
      }
      ta.assertNoSecretIn(e);
      assertThat(errorInfo(e).getDomain()).isEqualTo("tokenauthority");
    }
    assertThat(failures).isEqualTo(calls.size());
  }
}
