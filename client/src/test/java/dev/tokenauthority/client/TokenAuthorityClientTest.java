package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.RedeemResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The typed client against a real in-process server: the seed-000 flow end to end. */
class TokenAuthorityClientTest {
  private TokenAuthorityServer server;
  private ManagedChannel channel;
  private String adminKey;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), Clock.systemUTC());
    adminKey = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    server = new TokenAuthorityServer(InProcessServerBuilder.forName(name).directExecutor(), authority, Duration.ofMinutes(1)).start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.stop(Duration.ofSeconds(1));
  }

  @Test
  void mintThenRedeem_secondRedeem_isAlreadyUsed() {
    TokenAuthorityClient admin = new TokenAuthorityClient(channel, adminKey, Duration.ofSeconds(5));
    String backendKey =
        admin.createApiKey(
                CreateApiKeyRequest.newBuilder().setName("backend").addScopes("sessions:mint").addScopes("sessions:redeem").build())
            .getSecret();
    TokenAuthorityClient backend = new TokenAuthorityClient(channel, backendKey, Duration.ofSeconds(5));

    String token = backend.mint("rep_8842").getToken();
    RedeemResponse redeemed = backend.redeem(token);

    assertThat(redeemed.getExternalUserId()).isEqualTo("rep_8842");
    assertThatThrownBy(() -> backend.redeem(token))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(reason(e)).isEqualTo("TOKEN_ALREADY_USED"));
  }

  @Test
  void credentials_toString_neverShowsTheSecret() {
    assertThat(new ApiKeyCredentials(adminKey).toString()).doesNotContain(adminKey).contains("redacted");
  }

  private static String reason(StatusRuntimeException e) {
    try {
      for (com.google.protobuf.Any detail : StatusProto.fromThrowable(e).getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          return detail.unpack(ErrorInfo.class).getReason();
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
      throw new AssertionError(ex);
    }
    return null;
  }
}
