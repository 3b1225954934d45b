package dev.tokenauthority.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tokenauthority.server.session.SessionStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's Prometheus metrics, through Micrometer: what the calls did (sessions minted and
 * redeemed, refusals by reason, API-key authentication failures, per-RPC latency), how fast the
 * store answers, how many sessions are outstanding, and the JVM's own figures, served as text at
 * {@code /metrics} over HTTP. Meters are created once and then only incremented, so that the
 * calls pay no lookup beyond a map read.
 */
public final class Metrics implements AutoCloseable {
  /** Prometheus' text format, version 0.0.4: what every scraper understands. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  /** How often the outstanding-session count is refreshed, off the calls' path. */
  public static final Duration OUTSTANDING_REFRESH = Duration.ofSeconds(10);
  private static final Logger log = LoggerFactory.getLogger(Metrics.class);
  /** Scrapes served at once; a scraper needs one, the rest absorb peers that hold a connection. */
  static final int HTTP_THREADS = 4;
  /** A request (or response) of the metrics port not done within this is closed. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Counter minted;
  private final Counter redeemed;
  private final ConcurrentHashMap<String, Counter> rejections = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> authFailures = new ConcurrentHashMap<>();
  /**
   * What the watched meters read from. Micrometer holds a function meter's object weakly, and a
   * method reference such as {@code audit::dropped} is referenced by nothing else: collected, its
   * counter froze and the certificate's gauge read NaN.
   */
  private final List<Object> watched = new CopyOnWriteArrayList<>();
  private final AtomicLong outstanding = new AtomicLong(-1);
  private final ScheduledExecutorService background =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "metrics");
            t.setDaemon(true);
            return t;
          });
  private HttpServer http;

  public Metrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    minted = Counter.builder("token_authority.sessions.minted").description("Sessions minted (MintSession answered OK)").register(registry);
    redeemed = Counter.builder("token_authority.sessions.redeemed").description("Uses of sessions redeemed (Redeem answered OK)").register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The timer of one RPC by its final gRPC status code. */
  public Timer rpcTimer(String service, String method, String code) {
    return Timer.builder("token_authority.rpc.duration")
        .description("Time from a call's headers to its status, per RPC and gRPC status code")
        .tag("service", service)
        .tag("method", method)
        .tag("code", code)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(100_000))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
  }

  /** A timer of one store operation, with a latency histogram. */
  Timer storeTimer(String operation) {
    return Timer.builder("token_authority.store.operation.duration")
        .description("Time a store operation took, until committed for writes")
        .tag("operation", operation)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
  }

  public void sessionMinted() {
    minted.increment();
  }

  public void sessionRedeemed() {
    redeemed.increment();
  }

  /** Counts a call refused with this ErrorInfo reason. */
  public void rejected(String method, String reason) {
    rejections
        .computeIfAbsent(
            method + ' ' + reason,
            k -> Counter.builder("token_authority.rejections")
                .description("Calls refused, by RPC and ErrorInfo reason")
                .tag("method", method)
                .tag("reason", reason)
                .register(registry))
        .increment();
  }

  /** Counts a call refused because its API key did not authenticate. */
  public void apiKeyAuthFailed(String reason) {
    authFailures
        .computeIfAbsent(
            reason,
            k -> Counter.builder("token_authority.api_key_auth_failures")
                .description("Calls whose API key was missing, unknown, revoked or expired, by reason")
                .tag("reason", reason)
                .register(registry))
        .increment();
  }

  /**
   * Publishes the number of unexpired sessions in the store, counted in the background every
   * {@link #OUTSTANDING_REFRESH} (never on a call's path); -1 until the first count and while
   * counting fails (a stale figure would look like a real one).
   */
  public void watchOutstandingSessions(SessionStore store, Clock clock) {
    watchOutstandingSessions(store, clock, OUTSTANDING_REFRESH);
  }

  /** {@link #watchOutstandingSessions(SessionStore, Clock)}, counted every {@code every}. */
  public void watchOutstandingSessions(SessionStore store, Clock clock, Duration every) {
    Gauge.builder("token_authority.sessions.outstanding", outstanding, AtomicLong::get)
        .description("Sessions in the store that have not expired yet (used or not), counted every 10 s")
        .register(registry);
    java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean();
    background.scheduleWithFixedDelay(
        () -> {
          try {
            outstanding.set(store.countLiveSessions(clock.instant()));
            failing.set(false);
          } catch (RuntimeException e) {
            outstanding.set(-1);
            if (!failing.getAndSet(true)) {
              // Once per run of failures: the store's own line says when it is down.
              log.warn("counting outstanding sessions failed, the gauge reads -1 until a count succeeds: {}", e.getMessage());
            }
          }
        },
        0, every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Publishes audit lines dropped because the writer fell behind or the sink refused them. */
  public void watchAuditDrops(LongSupplier dropped) {
    watched.add(dropped);
    FunctionCounter.builder("token_authority.audit.dropped", dropped, LongSupplier::getAsLong)
        .description("Audit lines dropped because the audit writer fell behind or its file refused them")
        .register(registry);
  }

  /** Publishes log lines dropped because the console stalled (the log never blocks a call). */
  public void watchLogDrops(LongSupplier dropped) {
    watched.add(dropped);
    FunctionCounter.builder("token_authority.log.dropped", dropped, LongSupplier::getAsLong)
        .description("Log lines dropped because the console (stdout) was not being read")
        .register(registry);
  }

  /** Publishes when the TLS certificate being served expires. */
  public void watchCertificateExpiry(Supplier<Instant> notAfter) {
    watched.add(notAfter);
    Gauge.builder("token_authority.tls.certificate.expiry", notAfter, s -> s.get().getEpochSecond())
        .description("When the TLS certificate being served expires, in Unix seconds")
        .register(registry);
  }

  /** The metrics in Prometheus' text format. */
  public String scrape() {
    return registry.scrape(CONTENT_TYPE);
  }

  /**
   * Serves {@code GET /metrics} on {@code port} (0: a free one) on every interface.
   *
   * @return the port it listens on
   */
  public int serve(int port) throws IOException {
    // The JDK server reads a request on its executor's thread: one thread would be held by a
    // single half-sent request for as long as the peer likes. So: a few threads, and a request
    // not fully read within REQUEST_TIMEOUT is closed (the JDK's own timer, read once per JVM).
    System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime",
        Long.toString(REQUEST_TIMEOUT.toSeconds())));
    System.setProperty("sun.net.httpserver.maxRspTime", System.getProperty("sun.net.httpserver.maxRspTime",
        Long.toString(REQUEST_TIMEOUT.toSeconds())));
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
    server.createContext("/", this::handle);
    AtomicLong threads = new AtomicLong();
    server.setExecutor(
        Executors.newFixedThreadPool(
            HTTP_THREADS,
            r -> {
              Thread t = new Thread(r, "metrics-http-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            }));
    server.start();
    http = server;
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (!path.equals("/metrics")) {
        send(exchange, 404, "text/plain; charset=utf-8", "not found: metrics are at /metrics\n");
      } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "text/plain; charset=utf-8", "use GET\n");
      } else {
        send(exchange, 200, CONTENT_TYPE, scrape());
      }
    }
  }

  private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Stops the HTTP server and the background count. */
  @Override
  public void close() {
    background.shutdownNow();
    if (http != null) {
      http.stop(0);
      if (http.getExecutor() instanceof java.util.concurrent.ExecutorService e) {
        e.shutdownNow();
      }
    }
    gc.close();
    registry.close();
  }
}
