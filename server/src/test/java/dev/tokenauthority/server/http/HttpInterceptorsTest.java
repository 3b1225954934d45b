package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import dev.tokenauthority.server.store.sqlite.SqliteDatabase;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.PrometheusText;
import dev.tokenauthority.server.testing.WriterHold;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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

  @Test
  void aBodyThatIsNoRequest_isAuthenticatedFirst_thenRefused_meteredAndAudited_asGrpcMalformedBodiesAre() throws Exception {
    String key = authority.createKey(Scopes.SESSIONS_MINT);

    HttpTestClient.Reply wrongKeyAndNotJson = http.post("/v1/sessions", "sk_wrong_key_of_nobody_at_all", "{not json");
    HttpTestClient.Reply unknownField = http.post("/v1/sessions", key, "{\"externalUserId\":\"u1\",\"bogusField\":1}");

    // Who is asking comes first, as on the gRPC port: not a 400 that skips the key check.
    assertThat(wrongKeyAndNotJson.status()).isEqualTo(401);
    assertThat(wrongKeyAndNotJson.code()).isEqualTo("API_KEY_INVALID");
    assertThat(unknownField.status()).isEqualTo(400);
    assertThat(unknownField.code()).isEqualTo("INVALID_REQUEST");
    assertThat(unknownField.json().getAsJsonObject("error").getAsJsonArray("details").get(0).getAsJsonObject().get("path")
        .getAsString()).isEqualTo("bogusField");
    PrometheusText scrape = PrometheusText.scrape(metricsPort);
    assertThat(scrape.value("token_authority_api_key_auth_failures_total", "reason", "API_KEY_INVALID")).hasValue(1);
    assertThat(scrape.value("token_authority_rejections_total", "method", "MintSession", "reason", "INVALID_REQUEST")).hasValue(1);

    authority.close();
    audit.close();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : auditOut.toString(StandardCharsets.UTF_8).split("\n")) {
      lines.add(JSON.readTree(line));
    }
    assertThat(lines).anySatisfy(l -> {
      assertThat(l.path("rpc").asText()).endsWith("/MintSession");
      assertThat(l.path("outcome").asText()).isEqualTo("refused");
      assertThat(l.path("reason").asText()).isEqualTo("INVALID_REQUEST");
      assertThat(l.path("api_key_id").asText()).startsWith("key_");
    });
    assertThat(lines).anySatisfy(l -> assertThat(l.path("reason").asText()).isEqualTo("API_KEY_INVALID"));
  }

  @Test
  void h2cClientThatResetsItsStreamMidCall_cancelsTheCall_asMeteredAndAudited_withoutAnErrorLogged(@TempDir Path dataDir)
      throws Exception {
    assertGoingAwayMidCallCancelsIt(dataDir, (port, key, callStarted) -> {
      HttpResponse response = WebClient.of("h2c://127.0.0.1:" + port).execute(
          RequestHeaders.builder(HttpMethod.POST, "/v1/sessions").contentType(MediaType.JSON)
              .add("authorization", "Bearer " + key).build(),
          MINT_BODY);
      assertThat(callStarted.await(20, TimeUnit.SECONDS)).as("the call reached the service").isTrue();
      response.abort();
    });
  }

  @Test
  void http1ClientThatClosesItsConnectionMidCall_cancelsTheCall_asMeteredAndAudited_withoutAnErrorLogged(@TempDir Path dataDir)
      throws Exception {
    assertGoingAwayMidCallCancelsIt(dataDir, (port, key, callStarted) -> {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket.getOutputStream().write(("POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Authorization: Bearer " + key + "\r\nContent-Length: " + MINT_BODY.length() + "\r\n\r\n" + MINT_BODY)
            .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        assertThat(callStarted.await(20, TimeUnit.SECONDS)).as("the call reached the service").isTrue();
      }
    });
  }

  private static final String MINT_BODY = "{\"externalUserId\":\"u1\"}";

  /**
   * What a client does: sends one mint to the HTTP port with this key, then, once
   * {@code callStarted} says the call has run into the service (where it waits on the store),
   * goes away before the answer.
   */
  private interface GoingAway {
    void run(int port, String key, CountDownLatch callStarted) throws Exception;
  }

  /**
   * Runs a mint that cannot finish (the SQLite store's one writer is kept busy) while the client
   * goes away, then checks that the call ended as cancelled in the metrics and the audit log, and
   * that nothing was logged at WARN or above: a client leaving is not a server fault.
   */
  private static void assertGoingAwayMidCallCancelsIt(Path dataDir, GoingAway client) throws Exception {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger root = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    SqliteDatabase db = SqliteDatabase.open(dataDir.resolve(SqliteStores.FILE_NAME), Duration.ofSeconds(10));
    ByteArrayOutputStream auditOut = new ByteArrayOutputStream();
    AuditLog audit = new AuditLog(auditOut, true, 1024);
    Metrics metrics = new Metrics();
    int metricsPort = metrics.serve(0);
    CountDownLatch release = null;
    // The HTTP port starts each call with one task on its executor: the interceptors and the
    // service run in it, up to the store's queue. Its end is the sign the call is under way.
    CountDownLatch callStarted = new CountDownLatch(1);
    ExecutorService calls = Executors.newCachedThreadPool();
    Executor signalling = task -> calls.execute(() -> {
      task.run();
      callStarted.countDown();
    });
    try (InProcessAuthority slow = InProcessAuthority.builder().store(new JdbcStore(StoreKind.SQLITE, db)).directExecutor(false)
        .metrics(metrics).audit(audit).http(HttpGateway.Settings.plain(0).withExecutor(signalling)).start()) {
      String key = slow.createKey(Scopes.SESSIONS_MINT);
      // From here on: what a second server started in this JVM logs at start is not this call's.
      logged.start();
      root.addAppender(logged);
      release = WriterHold.hold(db);
      client.run(slow.httpPort(), key, callStarted);

      OptionalDouble cancelled = OptionalDouble.empty();
      for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline && cancelled.isEmpty(); ) {
        cancelled = PrometheusText.scrape(metricsPort)
            .value("token_authority_rpc_duration_seconds_count", "method", "MintSession", "code", "CANCELLED");
        Thread.sleep(50);
      }
      assertThat(cancelled).as("the mint is measured as cancelled once its client went away").hasValue(1);
      release.countDown();
    } finally {
      if (release != null) {
        release.countDown();
      }
      audit.close();
      metrics.close();
      root.detachAppender(logged);
      calls.shutdown();
    }
    assertThat(logged.list).as("a client going away is not a server error")
        .noneMatch(ev -> ev.getLevel().isGreaterOrEqual(Level.WARN));
    List<JsonNode> lines = new ArrayList<>();
    for (String line : auditOut.toString(StandardCharsets.UTF_8).split("\n")) {
      lines.add(JSON.readTree(line));
    }
    assertThat(lines).filteredOn(l -> l.path("rpc").asText().endsWith("/MintSession"))
        .singleElement()
        .satisfies(l -> assertThat(l.path("outcome").asText()).isEqualTo("cancelled"));
  }
}
