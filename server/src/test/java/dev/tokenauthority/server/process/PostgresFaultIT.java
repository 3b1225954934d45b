package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL stops under a running server and starts again: meanwhile every call fails fast
 * with UNAVAILABLE / STORE_UNAVAILABLE (never INTERNAL, never a hang to the deadline) and
 * health says NOT_SERVING; afterwards the server serves again by itself, with nothing lost.
 */
class PostgresFaultIT extends ProcessTestBase {
  /** Far longer than a refusal may take: a call that waits this long has hung. */
  private static final Duration DEADLINE = Duration.ofSeconds(8);

  @TempDir Path pgData;
  @TempDir Path dataDir;
  private EmbeddedPostgres pg;
  private int pgPort;

  @AfterEach
  void stopPostgres() throws IOException {
    if (pg != null) {
      pg.close();
    }
  }

  private EmbeddedPostgres startPostgres() throws IOException {
    return EmbeddedPostgres.builder()
        .setDataDirectory(pgData)
        .setCleanDataDirectory(false)
        .setPort(pgPort)
        .setServerConfig("synchronous_commit", "on")
        .start();
  }

  @Test
  void postgresStopsAndStarts_callsFailFastAsStoreUnavailable_healthFollows_andTheServerRecovers() throws Exception {
    try (ServerSocket probe = new ServerSocket(0)) {
      pgPort = probe.getLocalPort();
    }
    pg = startPostgres();
    String url = pg.getJdbcUrl("postgres", "postgres");
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin, "TOKEN_AUTHORITY_STORE", url));
    String minter = createKey(server, admin, "backend", "sessions:mint", "sessions:redeem");
    MintSessionResponse before = mint(server, minter, "rep_before", 1);

    pg.close();
    pg = null;

    // Every kind of call: a mint (a write), a redeem (a conditional write), a key never seen
    // by this process (a read in the interceptor).
    String unknownKey = secret(new dev.tokenauthority.server.apikey.ApiKeySecrets("sk_").generate());
    for (Runnable call : new Runnable[] {
        () -> stub(server, minter).mintSession(MintSessionRequest.newBuilder().setExternalUserId("rep_1").build()),
        () -> stub(server, minter).redeem(RedeemRequest.newBuilder().setToken(before.getToken()).build()),
        () -> stub(server, unknownKey).listApiKeys(dev.tokenauthority.v1.ListApiKeysRequest.getDefaultInstance()),
    }) {
      long start = System.nanoTime();
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(e).as("a call while PostgreSQL is down").isNotNull();
      assertThat(e.getStatus().getCode()).as("%s", e).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(ServerProcess.reason(e)).isEqualTo("STORE_UNAVAILABLE");
      assertThat(tookMillis).as("ms to refuse").isLessThan(DEADLINE.toMillis() / 2);
    }
    awaitHealth(server, ServingStatus.NOT_SERVING, Duration.ofSeconds(10));

    pg = startPostgres();

    awaitHealth(server, ServingStatus.SERVING, Duration.ofSeconds(20));
    // Writes acknowledged before the outage are there, and new calls work again.
    assertThat(redeem(server, minter, before.getToken()).getExternalUserId()).isEqualTo("rep_before");
    MintSessionResponse after = mint(server, minter, "rep_after", 1);
    assertThat(redeem(server, minter, after.getToken()).getExternalUserId()).isEqualTo("rep_after");
    assertThat(server.output()).doesNotContain("INTERNAL").doesNotContain("\tat ");
  }

  private static dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub stub(ServerProcess server, String secret) {
    return server.stub(secret).withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static void awaitHealth(ServerProcess server, ServingStatus expected, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    ServingStatus last = null;
    while (System.nanoTime() < deadline) {
      last = server.health().check(HealthCheckRequest.getDefaultInstance()).getStatus();
      if (last == expected) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("health stayed " + last + ", not " + expected + ", for " + within);
  }
}
