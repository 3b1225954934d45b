package dev.tokenauthority.server;

import com.google.common.base.Throwables;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.grpc.ApiKeyAuthInterceptor;
import dev.tokenauthority.server.grpc.CallRecordingInterceptor;
import dev.tokenauthority.server.grpc.ClientCertificateInterceptor;
import dev.tokenauthority.server.grpc.ExtAuthzService;
import dev.tokenauthority.server.grpc.HealthWatches;
import dev.tokenauthority.server.grpc.MalformedRequests;
import dev.tokenauthority.server.grpc.RateLimitHeaders;
import dev.tokenauthority.server.grpc.TenantAdminService;
import dev.tokenauthority.server.grpc.TokenAuthorityService;
import dev.tokenauthority.server.grpc.TransportRefusals;
import dev.tokenauthority.server.http.HttpGateway;
import dev.tokenauthority.server.logging.WireLogFilter;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.v1.TenantAdminGrpc;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server of an {@link Authority}, and optionally its HTTP/JSON port ({@link HttpGateway})
 * serving the same intercepted services: the v1 services (and, on gRPC only, Envoy's ext_authz Check) behind the API-key interceptor,
 * health and reflection (v1 and v1alpha) open on the same port, and the background purge of
 * expired sessions. Takes any {@link ServerBuilder}, so tests pass an in-process one. With
 * {@link Metrics} or an {@link AuditLog}, every call of the v1 services is measured or audited
 * (health and reflection are not).
 */
public final class TokenAuthorityServer {
  private static final Logger log = LoggerFactory.getLogger(TokenAuthorityServer.class);
  /** Large enough for any valid request (a context is at most 8 KiB), small enough to refuse floods. */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 256 * 1024;

  private final Authority authority;
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final HealthWatches healthWatches = new HealthWatches();
  /** Purges expired sessions: a large backlog can keep it busy for a while. */
  private final ScheduledExecutorService maintenance;
  /**
   * Every second: health and the signing keys. A thread of its own, so that a long purge
   * never delays another replica's rotation from being used here.
   */
  private final ScheduledExecutorService storeWatch;
  private final Duration purgeInterval;
  /** The v1 services with their interceptors, served by both ports. */
  private final List<ServerServiceDefinition> apiServices;
  private final ServerMethodDefinition<?, ?> openJwks;
  private final HttpGateway.Settings httpSettings;
  private volatile boolean serving;
  /** Set once, when the stop begins: from then on health says NOT_SERVING, whatever the store says. */
  private volatile boolean stopping;
  private HttpGateway http;

  public TokenAuthorityServer(ServerBuilder<?> builder, Authority authority, Duration purgeInterval) {
    this(builder, authority, purgeInterval, null, null);
  }

  /**
   * @param metrics null: calls are not measured
   * @param audit null: calls are not audited
   */
  public TokenAuthorityServer(
      ServerBuilder<?> builder, Authority authority, Duration purgeInterval, Metrics metrics, AuditLog audit) {
    this(builder, authority, purgeInterval, metrics, audit, null);
  }

  /**
   * @param http null: no HTTP/JSON port; otherwise one serving the same services and interceptors
   */
  public TokenAuthorityServer(
      ServerBuilder<?> builder, Authority authority, Duration purgeInterval, Metrics metrics, AuditLog audit,
      HttpGateway.Settings http) {
    this(builder, authority, purgeInterval, metrics, audit, http, null);
  }

  /**
   * @param clientCertificates null: no client certificates required; otherwise it refuses every
   *     call, on either port, whose connection's certificate the CAs served now do not trust
   */
  public TokenAuthorityServer(
      ServerBuilder<?> builder, Authority authority, Duration purgeInterval, Metrics metrics, AuditLog audit,
      HttpGateway.Settings http, ClientCertificateInterceptor clientCertificates) {
    // Before a port opens: its wire loggers must never write a caller's key, whatever the log level.
    WireLogFilter.install();
    this.authority = authority;
    this.purgeInterval = purgeInterval;
    this.httpSettings = http;
    // Interceptors run last-listed first: the recording of metrics and audit, the client
    // certificate (mTLS), authentication, then the rate-limit headers. The recording sits outside
    // the two checks to see the calls they refuse.
    List<ServerInterceptor> common = new ArrayList<>();
    common.add(new ApiKeyAuthInterceptor(authority.apiKeys(), authority.tenants()));
    List<ServerInterceptor> open = new ArrayList<>();
    if (clientCertificates != null) {
      common.add(clientCertificates);
      open.add(clientCertificates);
    }
    if (audit != null || metrics != null) {
      common.add(new CallRecordingInterceptor(metrics, audit, authority.clock()));
    }
    if (audit != null || metrics != null) {
      // So that a request the transport refuses (a frame cut short, too large) is recorded as
      // refused, not as a client that cancelled.
      builder.addStreamTracerFactory(new TransportRefusals());
    }
    List<ServerInterceptor> forTokenAuthority = new ArrayList<>();
    forTokenAuthority.add(new RateLimitHeaders(authority.sessions()::mintAllowance));
    forTokenAuthority.addAll(common);
    TokenAuthorityService service =
        new TokenAuthorityService(authority.sessions(), authority.apiKeys(), authority.signingKeys());
    this.apiServices =
        List.of(
            ServerInterceptors.intercept(MalformedRequests.guard(service.bindService()), forTokenAuthority),
            ServerInterceptors.intercept(
                MalformedRequests.guard(new TenantAdminService(authority.tenantService(), authority.signingKeys()).bindService()),
                common));
    // The JWK Set is public: the HTTP port also serves it without a key, at the well-known URL.
    this.openJwks = service.bindService().getMethod(TokenAuthorityGrpc.getGetJwksMethod().getFullMethodName());
    apiServices.forEach(builder::addService);
    // Envoy's ext_authz is gRPC only: Envoy speaks gRPC to it, and it has no HTTP/JSON route.
    builder.addService(ServerInterceptors.intercept(
        MalformedRequests.guard(new ExtAuthzService(authority.sessions()).bindService()), common));
    this.server =
        builder
            .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
            .addService(ServerInterceptors.intercept(
                ServerInterceptors.intercept(MalformedRequests.guard(health.getHealthService().bindService()), healthWatches),
                open))
            .addService(ServerInterceptors.intercept(MalformedRequests.guard(ProtoReflectionServiceV1.newInstance().bindService()), open))
            .addService(ServerInterceptors.intercept(MalformedRequests.guard(legacyReflection().bindService()), open))
            .build();
    this.maintenance = Executors.newSingleThreadScheduledExecutor(daemon("maintenance"));
    this.storeWatch = Executors.newSingleThreadScheduledExecutor(daemon("store-watch"));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService legacyReflection() {
    // grpcurl and older tools still ask v1alpha.
    return ProtoReflectionService.newInstance();
  }

  /** Starts serving; health turns SERVING. */
  public TokenAuthorityServer start() throws IOException {
    server.start();
    if (httpSettings != null) {
      http = new HttpGateway(apiServices, openJwks, () -> serving, httpSettings);
      try {
        http.start();
      } catch (RuntimeException e) {
        server.shutdownNow();
        throw new IOException("cannot serve HTTP on port " + httpSettings.port() + ": " + Throwables.getRootCause(e).getMessage(), e);
      }
    }
    setServing(true);
    long every = purgeInterval.toMillis();
    maintenance.scheduleWithFixedDelay(this::purge, every, every, TimeUnit.MILLISECONDS);
    storeWatch.scheduleWithFixedDelay(this::checkStore, 1, 1, TimeUnit.SECONDS);
    return this;
  }

  /** The services it serves, each with its methods: what {@link dev.tokenauthority.server.rpc.MethodTable} must describe. */
  public List<io.grpc.ServerServiceDefinition> services() {
    return server.getServices();
  }

  /** The port it listens on (the chosen one when started on port 0); -1 in-process. */
  public int port() {
    return server.getPort();
  }

  /** The HTTP/JSON port (the chosen one for port 0); -1 when none is served. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  private void purge() {
    if (!serving) {
      // The store is down (it said so, once) or the server is stopping: nothing to add.
      return;
    }
    try {
      int n = authority.sessions().purgeExpired();
      if (n > 0) {
        log.info(stopping ? "purged {} expired sessions, then stopped for the shutdown" : "purged {} expired sessions", n);
      }
    } catch (RuntimeException e) {
      if (stopping) {
        log.info("purging expired sessions stopped for the shutdown: {}", e.getMessage());
      } else {
        log.warn("purging expired sessions failed: {}", e.getMessage());
      }
    }
  }

  /**
   * Every second: health follows the store, and while the store answers, the signing keys are
   * reloaded, so that a rotation made by another replica on the same store is used here too.
   */
  private void checkStore() {
    boolean serving = authority.store().isServing();
    setServing(serving);
    if (serving) {
      try {
        authority.signingKeys().refresh();
      } catch (RuntimeException e) {
        log.warn("reloading the signing keys failed: {}", e.getMessage());
      }
    }
  }

  /** Synchronized with {@link #stop}'s first step (store-watch and stopping threads only, never an event loop). */
  private synchronized void setServing(boolean serving) {
    if (stopping) {
      // A store probe that was running when the stop began must not report SERVING again.
      return;
    }
    this.serving = serving;
    ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus("", status);
    health.setStatus(TokenAuthorityGrpc.SERVICE_NAME, status);
    health.setStatus(TenantAdminGrpc.SERVICE_NAME, status);
    health.setStatus(AuthorizationGrpc.SERVICE_NAME, status);
  }

  /**
   * Stops in order: health turns NOT_SERVING (health watchers hear it, then their streams
   * end), no new calls are accepted, in-flight calls get up to {@code grace} to finish, then
   * the rest are cancelled.
   */
  public void stop(Duration grace) throws InterruptedException {
    synchronized (this) {
      // No probe's answer lands between these: it finds the stop, or is overwritten by it.
      stopping = true;
      serving = false;
      health.enterTerminalState();
    }
    maintenance.shutdownNow();
    storeWatch.shutdownNow();
    server.shutdown();
    // The HTTP port drains at the same time, within its own grace (the same setting).
    CompletableFuture<Void> httpStopped = http == null ? CompletableFuture.completedFuture(null) : http.stop();
    healthWatches.endAll();
    if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      // Calls still running, or connections whose calls are done but whose client has not
      // closed its side yet (LingeringClose waits up to Linger.MAX for it).
      log.warn("the gRPC port had not drained after the {} ms grace period: calls still running are cancelled,"
          + " connections closed", grace.toMillis());
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    try {
      httpStopped.get(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.warn("the HTTP port did not stop cleanly: {}", e.getMessage());
    }
  }
}
