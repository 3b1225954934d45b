package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.PrometheusText;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Calls over HTTP go through the gRPC port's interceptors: they are measured by the same
 * metrics and written to the same audit log, with the HTTP client's address as the peer.
 */
class HttpInterceptorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ByteArrayOutputStream auditOut = new ByteArrayOutputStream();
  private Metrics metrics;
  private AuditLog audit;
  private InProcessAuthority authority;
  private HttpTestClient http;
  private int metricsPort;

  @BeforeEach
  void start() throws Exception {
    metrics = new Metrics();
    audit = new AuditLog(auditOut, true, 1024);
    authority = InProcessAuthority.builder().directExecutor(false).metrics(metrics).audit(audit)
        .http(HttpGateway.Settings.plain(0)).start();
    http = HttpTestClient.local(authority.httpPort());
    metricsPort = metrics.serve(0);
  }

  @AfterEach
  void stop() throws Exception {
    authority.close();
    audit.close();
    metrics.close();
  }

  @Test
  void mintAndRefusalOverHttp_areMeteredAndAuditedLikeGrpcCalls() throws Exception {
    String key = authority.createKey(Scopes.SESSIONS_MINT);
    HttpTestClient.Reply minted = http.post("/v1/sessions", key, "{\"externalUserId\":\"rep_8842\"}");
    assertThat(minted.status()).isEqualTo(200);
    assertThat(http.post("/v1/sessions", "sk_wrong_key_of_nobody_at_all", "{\"externalUserId\":\"x\"}").status()).isEqualTo(401);

    PrometheusText scrape = PrometheusText.scrape(metricsPort);
    assertThat(scrape.value("token_authority_sessions_minted_total")).hasValue(1);
    assertThat(scrape.value("token_authority_api_key_auth_failures_total", "reason", "API_KEY_INVALID")).hasValue(1);

    authority.close();
    audit.close();
    String text = auditOut.toString(StandardCharsets.UTF_8);
    assertThat(text).doesNotContain(key).doesNotContain(minted.field("token"));
    List<JsonNode> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      lines.add(JSON.readTree(line));
    }
    JsonNode mint = lines.stream().filter(l -> l.path("rpc").asText().endsWith("/MintSession")).findFirst().orElseThrow();
    assertThat(mint.path("outcome").asText()).isEqualTo("ok");
    assertThat(mint.path("session_id").asText()).isEqualTo(minted.field("sessionId"));
    assertThat(mint.path("peer").asText()).startsWith("127.0.0.1:");
    assertThat(lines).anySatisfy(l -> assertThat(l.path("reason").asText()).isEqualTo("API_KEY_INVALID"));
  }
}
