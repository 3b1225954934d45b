package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose stdout and stderr nobody reads (a hung log shipper, a full pipe) keeps
 * answering: no Netty thread ever writes to the console itself.
 */
class LogStallIT extends ProcessTestBase {
  @TempDir Path dataDir;

  @Test
  void stalledOutput_clientsVanishingWithCallsInFlight_healthAndMintStillAnswer() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), "--store", "memory");
    TokenAuthorityGrpc.TokenAuthorityBlockingStub adminStub = server.stub(admin);
    for (int i = 0; i < 200; i++) {
      adminStub.createApiKey(CreateApiKeyRequest.newBuilder().setName("key " + i).addScopes("sessions:mint").build());
    }
    String minter = secret(adminStub.createApiKey(
        CreateApiKeyRequest.newBuilder().setName("minter").addScopes("sessions:mint").build()).getSecret());

    server.stallOutput();
    // Clients that ask for large pages and vanish before reading them: each leaves the server
    // with responses to write on streams that are gone.
    for (int client = 0; client < 60; client++) {
      ManagedChannel vanishing =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().flowControlWindow(65_535).build();
      TokenAuthorityGrpc.TokenAuthorityFutureStub stub =
          TokenAuthorityGrpc.newFutureStub(vanishing).withInterceptors(ServerProcess.bearer(admin));
      for (int call = 0; call < 20; call++) {
        stub.listApiKeys(ListApiKeysRequest.newBuilder().setPageSize(1000).build());
      }
      Thread.sleep(30);
      vanishing.shutdownNow();
    }

    ManagedChannel fresh = server.newChannel();
    HealthCheckResponse health = HealthGrpc.newBlockingStub(fresh).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    String sessionId = TokenAuthorityGrpc.newBlockingStub(fresh).withInterceptors(ServerProcess.bearer(minter))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .mintSession(MintSessionRequest.newBuilder().setExternalUserId("rep_8842").build())
        .getSessionId();
    assertThat(sessionId).startsWith("ses_");
    server.resumeOutput();
  }
}
