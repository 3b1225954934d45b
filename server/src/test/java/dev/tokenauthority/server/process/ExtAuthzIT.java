package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.TestPostgres;
import dev.tokenauthority.v1.MintSessionResponse;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy's Check against the real jar: on SQLite, and across two replicas on one PostgreSQL,
 * where a token checked on one replica is used up on the other.
 */
class ExtAuthzIT extends ProcessTestBase {
  @TempDir Path dataDirA;
  @TempDir Path dataDirB;

  private static CheckResponse check(ServerProcess server, String envoyKey, String token, String mode) {
    CheckRequest request = CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder()
            .setRequest(AttributeContext.Request.newBuilder()
                .setHttp(AttributeContext.HttpRequest.newBuilder().putHeaders("x-session-token", token)))
            .putContextExtensions("mode", mode))
        .build();
    return AuthorizationGrpc.newBlockingStub(server.channel())
        .withInterceptors(ServerProcess.bearer(envoyKey))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(request);
  }

  private static void assertUsedUp(CheckResponse r) {
    assertThat(r.hasDeniedResponse()).as("denied: %s", r).isTrue();
    assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(401);
    assertThat(r.getDeniedResponse().getBody()).contains("\"TOKEN_ALREADY_USED\"");
  }

  /** The services reflection lists, as grpcurl's {@code list} asks for them. */
  private static List<String> reflectedServices(ServerProcess server) throws Exception {
    CompletableFuture<List<String>> services = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(server.channel()).withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(
            new StreamObserver<>() {
              @Override
              public void onNext(ServerReflectionResponse r) {
                services.complete(r.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList());
              }

              @Override
              public void onError(Throwable t) {
                services.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    return services.get(10, TimeUnit.SECONDS);
  }

  @Test
  void jarOnSqlite_checkRedeemsOnce_verifyDoesNot_andReflectionListsTheService() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDirA, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), "--store", "sqlite");
    String minter = createKey(server, admin, "backend", "sessions:mint");
    String envoy = createKey(server, admin, "envoy", "sessions:redeem");
    MintSessionResponse minted = mint(server, minter, "rep_8842", 1);

    assertThat(check(server, envoy, minted.getToken(), "verify").hasOkResponse()).isTrue();
    CheckResponse allowed = check(server, envoy, minted.getToken(), "redeem");
    assertUsedUp(check(server, envoy, minted.getToken(), "redeem"));

    assertThat(allowed.getOkResponse().getHeadersList())
        .anySatisfy(h -> {
          assertThat(h.getHeader().getKey()).isEqualTo("x-session-id");
          assertThat(h.getHeader().getValue()).isEqualTo(minted.getSessionId());
        });
    assertThat(reflectedServices(server)).contains(
        "envoy.service.auth.v3.Authorization", "tokenauthority.v1.TokenAuthority", "grpc.health.v1.Health");
  }

  @Test
  void twoReplicasOnPostgres_tokenCheckedOnA_isUsedOnB_andThenRefusedOnBoth() throws Exception {
    String url = TestPostgres.newDatabase();
    try {
      String admin = secret(ServerProcess.randomSecret());
      Map<String, String> env = Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin, "TOKEN_AUTHORITY_STORE", url);
      // Started together, as ReplicaIT does.
      ServerProcess a = launch(dataDirA, env);
      ServerProcess b = launch(dataDirB, env);
      a.awaitListening(ServerProcess.START_TIMEOUT);
      b.awaitListening(ServerProcess.START_TIMEOUT);
      String minter = createKey(a, admin, "backend", "sessions:mint");
      String envoy = createKey(b, admin, "envoy", "sessions:redeem");
      MintSessionResponse minted = mint(a, minter, "rep_8842", 2);

      assertThat(check(a, envoy, minted.getToken(), "verify").hasOkResponse()).isTrue();
      assertThat(check(a, envoy, minted.getToken(), "redeem").hasOkResponse()).isTrue();
      assertThat(check(b, envoy, minted.getToken(), "redeem").hasOkResponse()).isTrue();

      assertUsedUp(check(b, envoy, minted.getToken(), "redeem"));
      assertUsedUp(check(a, envoy, minted.getToken(), "redeem"));
      assertUsedUp(check(a, envoy, minted.getToken(), "verify"));
    } finally {
      TestPostgres.dropDatabase(url);
    }
  }
}
