package dev.tokenauthority.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.PrometheusText;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Metrics of real calls (in-process gRPC, a timed memory store), scraped over HTTP. */
class MetricsTest {
  private static final String SERVICE = "tokenauthority.v1.TokenAuthority";

  private Metrics metrics;
  private InProcessAuthority ta;
  private int port;

  @BeforeEach
  void start() throws Exception {
    metrics = new Metrics();
    ta = InProcessAuthority.builder().metrics(metrics).store(new TimedStore(new MemoryStore(), metrics)).start();
    port = metrics.serve(0);
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
    metrics.close();
  }

  private static double value(PrometheusText scrape, String name, String... labels) {
    OptionalDouble v = scrape.value(name, labels);
    assertThat(v).as("%s %s in\n%s", name, String.join(",", labels), scrape.text()).isPresent();
    return v.getAsDouble();
  }

  @Test
  void watchedCountersAndTheCertificateGauge_keepReadingTheirSource_afterAGarbageCollection() throws Exception {
    // Passed as capturing method references, as Main passes audit::dropped: nothing else holds them.
    AtomicLong auditDrops = new AtomicLong();
    AtomicLong logDrops = new AtomicLong();
    AtomicReference<Instant> notAfter = new AtomicReference<>(Instant.ofEpochSecond(2_000_000_000L));
    metrics.watchAuditDrops(auditDrops::get);
    metrics.watchLogDrops(logDrops::get);
    metrics.watchCertificateExpiry(notAfter::get);

    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
    }
    auditDrops.set(7);
    logDrops.set(3);
    PrometheusText scrape = PrometheusText.scrape(port);

    assertThat(value(scrape, "token_authority_audit_dropped_total")).isEqualTo(7);
    assertThat(value(scrape, "token_authority_log_dropped_total")).isEqualTo(3);
    assertThat(value(scrape, "token_authority_tls_certificate_expiry")).isEqualTo(2_000_000_000d);
  }

  @Test
  void scrape_whileAPeerHoldsAHalfSentRequest_isAnswered_andTheHalfSentOneIsClosed() throws Exception {
    try (java.net.Socket slow = new java.net.Socket("127.0.0.1", port)) {
      slow.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      slow.getOutputStream().flush();
      Thread.sleep(200);

      // PrometheusText gives up after 10 s.
      assertThat(PrometheusText.scrape(port).text()).contains("token_authority_sessions_minted_total");

      slow.setSoTimeout((int) Metrics.REQUEST_TIMEOUT.plusSeconds(10).toMillis());
      assertThat(slow.getInputStream().read()).as("the half-sent request's connection is closed").isEqualTo(-1);
    }
  }

  @Test
  void scrape_afterMintsRedeemsAndRefusals_countsEachByWhatHappened() throws Exception {
    String key = ta.createKey("sessions:mint", "sessions:redeem");
    MintSessionResponse first = ta.mint(key, "user-1");
    ta.mint(key, "user-2");
    ta.stub(key).redeem(RedeemRequest.newBuilder().setToken(first.getToken()).build());
    ta.assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED",
        () -> ta.stub(key).redeem(RedeemRequest.newBuilder().setToken(first.getToken()).build()));
    ta.assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REQUIRED",
        () -> ta.anonymous().getJwks(GetJwksRequest.getDefaultInstance()));
    ta.assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_INVALID",
        () -> ta.withAuthorization("Bearer not-a-key-of-ours-but-long-enough-to-be-looked-up")
            .mintSession(MintSessionRequest.newBuilder().setExternalUserId("x").build()));
    String mintOnly = ta.createKey("sessions:mint");
    ta.assertFails(Status.Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(mintOnly).redeem(RedeemRequest.newBuilder().setToken(first.getToken()).build()));

    PrometheusText scrape = PrometheusText.scrape(port);

    assertThat(value(scrape, "token_authority_sessions_minted_total")).isEqualTo(2);
    assertThat(value(scrape, "token_authority_sessions_redeemed_total")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_rejections_total", "method", "Redeem", "reason", "TOKEN_ALREADY_USED"))
        .isEqualTo(1);
    assertThat(value(scrape, "token_authority_rejections_total", "method", "Redeem", "reason", "SCOPE_NOT_GRANTED"))
        .isEqualTo(1);
    assertThat(value(scrape, "token_authority_api_key_auth_failures_total", "reason", "API_KEY_REQUIRED")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_api_key_auth_failures_total", "reason", "API_KEY_INVALID")).isEqualTo(1);
    // A missing scope is a refusal, not a failure to authenticate.
    assertThat(scrape.find("token_authority_api_key_auth_failures_total", "reason", "SCOPE_NOT_GRANTED")).isEmpty();

    assertThat(value(scrape, "token_authority_rpc_duration_seconds_count",
        "service", SERVICE, "method", "MintSession", "code", "OK")).isEqualTo(2);
    assertThat(value(scrape, "token_authority_rpc_duration_seconds_count",
        "service", SERVICE, "method", "Redeem", "code", "UNAUTHENTICATED")).isEqualTo(1);
    assertThat(value(scrape, "token_authority_rpc_duration_seconds_bucket",
        "service", SERVICE, "method", "MintSession", "code", "OK", "le", "+Inf")).isEqualTo(2);
    assertThat(scrape.find("token_authority_rpc_duration_seconds_bucket", "method", "MintSession", "code", "OK"))
        .as("a latency histogram, not just a count").hasSizeGreaterThan(10);

    assertThat(value(scrape, "token_authority_store_operation_duration_seconds_count", "operation", "insertSession"))
        .isEqualTo(2);
    assertThat(value(scrape, "token_authority_store_operation_duration_seconds_count", "operation", "redeemSessionUse"))
        .isGreaterThanOrEqualTo(1);
    assertThat(scrape.find("jvm_memory_used_bytes")).isNotEmpty();
  }

  @Test
  void outstandingSessions_countsUnexpiredSessions_offTheCallPath() throws Exception {
    String key = ta.createKey("sessions:mint");
    ta.mint(key, "user-1");
    ta.mint(key, "user-2");
    ta.mint(key, MintSessionRequest.newBuilder().setExternalUserId("short").setTtlSeconds(1).build());
    ta.clock().advance(Duration.ofSeconds(2));

    metrics.watchOutstandingSessions(ta.store().sessions(), ta.clock(), Duration.ofMillis(50));

    // The count is refreshed in the background: wait (bounded) for the first one.
    assertThat(outstandingWithin(Duration.ofSeconds(10), 2)).isEqualTo(2);
  }

  @Test
  void outstandingSessions_whileCountingFails_readMinusOne_notTheLastCount() throws Exception {
    String key = ta.createKey("sessions:mint");
    ta.mint(key, "user-1");
    java.util.concurrent.atomic.AtomicBoolean fail = new java.util.concurrent.atomic.AtomicBoolean();
    dev.tokenauthority.server.session.SessionStore real = ta.store().sessions();
    dev.tokenauthority.server.session.SessionStore failing = (dev.tokenauthority.server.session.SessionStore)
        java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {dev.tokenauthority.server.session.SessionStore.class}, (p, m, a) -> {
              if (m.getName().equals("countLiveSessions") && fail.get()) {
                throw new dev.tokenauthority.server.error.StoreUnavailableException("canceling statement due to statement timeout", null);
              }
              try {
                return m.invoke(real, a);
              } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
              }
            });
    metrics.watchOutstandingSessions(failing, ta.clock(), Duration.ofMillis(50));

    assertThat(outstandingWithin(Duration.ofSeconds(10), 1)).isEqualTo(1);
    fail.set(true);
    assertThat(outstandingWithin(Duration.ofSeconds(10), -1)).as("unknown, not stale").isEqualTo(-1);
    fail.set(false);
    assertThat(outstandingWithin(Duration.ofSeconds(10), 1)).isEqualTo(1);
  }

  /** The gauge once it reads {@code expected}, or its last reading when {@code within} ran out. */
  private double outstandingWithin(Duration within, double expected) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    double outstanding;
    do {
      outstanding = value(PrometheusText.scrape(port), "token_authority_sessions_outstanding");
    } while (outstanding != expected && System.nanoTime() < deadline);
    return outstanding;
  }

  @Test
  void http_otherPathOrMethod_isNotFoundOrNotAllowed() throws Exception {
    assertThat(PrometheusText.get(port, "/").statusCode()).isEqualTo(404);
    assertThat(PrometheusText.get(port, "/metrics/x").statusCode()).isEqualTo(404);
  }
}
