package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.PrometheusText;
import dev.tokenauthority.v1.MintSessionRequest;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Check as the operator sees it: a store outage fails closed, and audit and metrics count it as Redeem and Introspect. */
class ExtAuthzObservedTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String CHECK = "envoy.service.auth.v3.Authorization/Check";

  @TempDir Path dataDir;

  private static AuthorizationGrpc.AuthorizationBlockingStub envoy(InProcessAuthority ta, String secret) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + secret);
    return AuthorizationGrpc.newBlockingStub(ta.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static CheckResponse check(InProcessAuthority ta, String envoyKey, String token, String mode) {
    return envoy(ta, envoyKey).check(ExtAuthzTest.request(Map.of("x-session-token", token), Map.of("mode", mode)));
  }

  @Test
  void check_storeDown_isDenied503StoreUnavailable_failingClosed() throws Exception {
    // Keys and tenants stay cached for the test, so that only the session lookup meets the outage.
    Authority.Settings settings = new Authority.Settings("sk_", "token-authority", Duration.ofHours(1), Duration.ofSeconds(30));
    Store store = SqliteStores.open(dataDir.resolve("down"), Duration.ofSeconds(5));
    try (InProcessAuthority ta = InProcessAuthority.builder().store(store).settings(settings).start()) {
      String minter = ta.createKey("sessions:mint");
      String envoyKey = ta.createKey("sessions:redeem");
      String token = ta.mint(minter, "rep_8842").getToken();
      String other = ta.mint(minter, "rep_8843").getToken();
      assertThat(check(ta, envoyKey, other, "verify").hasOkResponse()).isTrue();

      store.close();

      for (String mode : List.of("redeem", "verify")) {
        CheckResponse r = check(ta, envoyKey, token, mode);
        assertThat(r.hasDeniedResponse()).as(mode).isTrue();
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
        assertThat(r.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE.value());
        assertThat(JSON.readTree(r.getDeniedResponse().getBody()).path("error").path("code").asText()).isEqualTo("STORE_UNAVAILABLE");
      }
    }
  }

  @Test
  void check_isAuditedAndMeasured_likeRedeem_withTheRefusalsReason() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AuditLog audit = new AuditLog(out, true, 1024);
    Metrics metrics = new Metrics();
    InProcessAuthority ta = InProcessAuthority.builder().audit(audit).metrics(metrics).start();
    int port = metrics.serve(0);
    boolean closed = false;
    try {
      String minter = ta.createKey("sessions:mint");
      String envoyKey = ta.createKey("sessions:redeem");
      var minted = ta.mint(minter, MintSessionRequest.newBuilder().setExternalUserId("rep_8842").build());
      assertThat(check(ta, envoyKey, minted.getToken(), "verify").hasOkResponse()).isTrue();
      assertThat(check(ta, envoyKey, minted.getToken(), "redeem").hasOkResponse()).isTrue();
      assertThat(check(ta, envoyKey, minted.getToken(), "redeem").hasDeniedResponse()).isTrue();

      PrometheusText scrape = PrometheusText.scrape(port);
      assertThat(scrape.value("token_authority_sessions_redeemed_total")).hasValue(1);
      assertThat(scrape.value("token_authority_rejections_total", "method", "Check", "reason", "TOKEN_ALREADY_USED")).hasValue(1);
      assertThat(scrape.value("token_authority_rpc_duration_seconds_count",
          "service", "envoy.service.auth.v3.Authorization", "method", "Check", "code", "OK")).hasValue(2);
      assertThat(scrape.value("token_authority_rpc_duration_seconds_count",
          "service", "envoy.service.auth.v3.Authorization", "method", "Check", "code", "UNAUTHENTICATED")).hasValue(1);

      ta.close();
      audit.close();
      closed = true;
      String text = out.toString(StandardCharsets.UTF_8);
      assertThat(text).doesNotContain(minted.getToken()).doesNotContain(envoyKey);
      List<JsonNode> checks = new ArrayList<>();
      for (String line : text.split("\n")) {
        JsonNode node = JSON.readTree(line);
        if (CHECK.equals(node.path("rpc").asText())) {
          checks.add(node);
        }
      }
      // The verify is a successful read: not audited, as Introspect. The redeem and the refusal are.
      assertThat(checks).hasSize(2);
      assertThat(checks.get(0).path("outcome").asText()).isEqualTo("ok");
      assertThat(checks.get(0).path("session_id").asText()).isEqualTo(minted.getSessionId());
      assertThat(checks.get(0).path("external_user_id").asText()).isEqualTo("rep_8842");
      assertThat(checks.get(1).path("outcome").asText()).isEqualTo("refused");
      assertThat(checks.get(1).path("code").asText()).isEqualTo("UNAUTHENTICATED");
      assertThat(checks.get(1).path("reason").asText()).isEqualTo("TOKEN_ALREADY_USED");
      assertThat(checks.get(1).path("api_key_id").asText()).startsWith("key_");
    } finally {
      if (!closed) {
        ta.close();
        audit.close();
      }
      metrics.close();
    }
  }
}
