package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.PrometheusText;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.Status;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real jar with --metrics-port: Prometheus text over HTTP after real calls, on the default store. */
class MetricsIT extends ProcessTestBase {
  @TempDir Path dataDir;

  private static double value(PrometheusText scrape, String name, String... labels) {
    OptionalDouble v = scrape.value(name, labels);
    assertThat(v).as("%s %s", name, String.join(",", labels)).isPresent();
    return v.getAsDouble();
  }

  @Test
  void scrape_afterRealCallsAndRefusals_showsWhatHappened_andStopsWithTheServer() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), "--metrics-port", "0");
    int metricsPort = server.metricsPort();
    assertThat(metricsPort).isNotEqualTo(server.port());

    String key = createKey(server, admin, "metrics", "sessions:mint", "sessions:redeem");
    MintSessionResponse first = mint(server, key, "user-1", 1);
    mint(server, key, "user-2", 1);
    mint(server, key, "user-3", 1);
    redeem(server, key, first.getToken());
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(server, key, first.getToken()));
    assertFails(Status.Code.INVALID_ARGUMENT, "INVALID_TTL", () -> server.stub(key)
        .mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").setTtlSeconds(999_999).build()));
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REQUIRED", () -> TokenAuthorityGrpc.newBlockingStub(server.channel())
        .getJwks(GetJwksRequest.getDefaultInstance()));
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> server.stub(ServerProcess.randomSecret())
        .getJwks(GetJwksRequest.getDefaultInstance()));

    PrometheusText scrape = PrometheusText.scrape(metricsPort);

    assertThat(value(scrape, "token_authority_sessions_minted_total")).isEqualTo(3);
    assertThat(value(scrape, "token_authority_sessions_redeemed_total")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_rejections_total", "reason", "TOKEN_ALREADY_USED")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_rejections_total", "reason", "INVALID_TTL")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_api_key_auth_failures_total", "reason", "API_KEY_REQUIRED")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_api_key_auth_failures_total", "reason", "API_KEY_INVALID")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_rpc_duration_seconds_count", "method", "MintSession", "code", "OK")).isEqualTo(3);
    assertThat(scrape.find("token_authority_rpc_duration_seconds_bucket", "method", "Redeem", "code", "OK")).hasSizeGreaterThan(10);
    assertThat(value(scrape, "token_authority_store_operation_duration_seconds_count", "operation", "insertSession"))
        .isEqualTo(3);
    assertThat(scrape.find("token_authority_sessions_outstanding")).hasSize(1);
    assertThat(scrape.find("process_uptime_seconds")).hasSize(1);

    server.sigterm();
    assertThat(server.waitFor(Duration.ofSeconds(30))).isZero();
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> PrometheusText.get(metricsPort, "/metrics")))
        .isInstanceOf(ConnectException.class);
  }
}
