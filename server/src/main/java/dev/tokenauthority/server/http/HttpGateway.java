package dev.tokenauthority.server.http;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ExchangeType;
import com.linecorp.armeria.common.Flags;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.logging.RequestLogProperty;
import com.linecorp.armeria.common.metric.NoopMeterRegistry;
import com.linecorp.armeria.common.util.EventLoopGroups;
import com.linecorp.armeria.common.util.TransportType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.RoutingContext;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.grpc.ClientCertificateInterceptor;
import dev.tokenauthority.server.grpc.ErrorMapper;
import dev.tokenauthority.server.netty.ConnectionLimits;
import dev.tokenauthority.server.netty.HttpLingeringClose;
import dev.tokenauthority.server.tls.ClientCertificateTrust;
import io.grpc.StatusRuntimeException;
import dev.tokenauthority.server.tls.ServerTls;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.util.KeyManagerFactoryWrapper;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The HTTP/JSON port: every RPC at the route of its {@code google.api.http} annotation, run
 * through the very method definitions (interceptors and services) the gRPC port serves, plus
 * three routes without a key: {@code /healthz}, {@code /.well-known/jwks.json} and
 * {@code /openapi.json}. HTTP/1.1 with keep-alive and h2c on a plain port, HTTP/1.1 and h2 over
 * TLS with the gRPC port's certificates and client-certificate rule. Bodies over 256 KiB,
 * requests slower than the request timeout and connections idle longer than the idle timeout
 * are ended; every failure is answered in the error envelope, never with a stack trace.
 */
public final class HttpGateway {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HttpGateway.class);
  /** The same limit as the gRPC port's largest message. */
  public static final int MAX_BODY_BYTES = 256 * 1024;
  static final String HEALTH_PATH = "/healthz";
  static final String JWKS_PATH = "/.well-known/jwks.json";
  static final String OPENAPI_PATH = "/openapi.json";
  /**
   * Verifiers and shared caches may keep the JWK Set for 15 s: a rotation's key signs at once,
   * so a verifier that meets its kid refetches, and a longer max-age would let a cache answer that
   * refetch with the set before the rotation (a valid token refused for as long). A retired key
   * stays listed for a day, so a stale copy while the authority is down loses nothing.
   */
  static final String JWKS_CACHE_CONTROL = "public, max-age=15, stale-if-error=86400";
  private static final Duration DRAIN_QUIET_PERIOD = Duration.ofMillis(100);
  private static final Duration ACCEPTOR_STOP_TIMEOUT = Duration.ofSeconds(1);
  /** What the open routes allow: GET, and HEAD as GET without the body (RFC 9110 9.3.2). */
  private static final String OPEN_ROUTE_METHODS = "GET, HEAD";

  /**
   * How the port is served.
   *
   * @param port 0 picks a free one
   * @param tls null: plaintext (HTTP/1.1 and h2c)
   * @param executor runs the calls; null: Armeria's blocking task executor
   * @param drainGrace how long in-flight requests may finish at stop
   */
  public record Settings(
      int port, Duration requestTimeout, Duration idleTimeout, ServerTls tls, Executor executor, Duration drainGrace,
      int maxConnections, int maxStreamsPerConnection) {
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Plaintext on {@code port} with the default timeouts and limits (the gRPC port's defaults of
     * {@code --max-connections} and {@code --max-calls-per-connection}).
     */
    public static Settings plain(int port) {
      return new Settings(port, REQUEST_TIMEOUT, IDLE_TIMEOUT, null, null, Duration.ofSeconds(20),
          ConnectionLimits.DEFAULT_MAX_CONNECTIONS, ConnectionLimits.DEFAULT_MAX_CALLS_PER_CONNECTION);
    }

    public Settings withTls(ServerTls tls) {
      return new Settings(port, requestTimeout, idleTimeout, tls, executor, drainGrace, maxConnections, maxStreamsPerConnection);
    }

    public Settings withExecutor(Executor executor) {
      return new Settings(port, requestTimeout, idleTimeout, tls, executor, drainGrace, maxConnections, maxStreamsPerConnection);
    }

    public Settings withTimeouts(Duration request, Duration idle) {
      return new Settings(port, request, idle, tls, executor, drainGrace, maxConnections, maxStreamsPerConnection);
    }

    public Settings withDrainGrace(Duration grace) {
      return new Settings(port, requestTimeout, idleTimeout, tls, executor, grace, maxConnections, maxStreamsPerConnection);
    }

    /**
     * The gRPC port's {@code --max-connections} and {@code --max-calls-per-connection}, for this
     * port too: HTTP/2 streams in flight per connection bound what a client that does not read
     * can make the server hold, and connections what it can hold open.
     */
    public Settings withLimits(int connections, int streamsPerConnection) {
      return new Settings(port, requestTimeout, idleTimeout, tls, executor, drainGrace, connections, streamsPerConnection);
    }
  }

  private final RouteTable routes;
  private final ServerMethodDefinition<?, ?> openJwks;
  private final BooleanSupplier serving;
  /** When {@link #stop()} began (System.nanoTime()); {@link Long#MAX_VALUE} until then. */
  private volatile long stoppedAtNanos = Long.MAX_VALUE;
  private final Settings settings;
  private final EnvelopeErrorHandler errors = new EnvelopeErrorHandler(this::allowedMethods);
  /** Null: no client certificates required. */
  private final ClientCertificateTrust clientTrust;
  private final String openApi;
  private final Server server;

  /**
   * @param services the served services, interceptors included, exactly as the gRPC port has them
   * @param openJwks GetJwks without the authentication interceptor, for the well-known URL
   * @param serving whether {@code /healthz} says 200
   */
  public HttpGateway(
      List<ServerServiceDefinition> services, ServerMethodDefinition<?, ?> openJwks, BooleanSupplier serving, Settings settings) {
    this.routes = RouteTable.of(services);
    this.openJwks = openJwks;
    this.serving = serving;
    this.settings = settings;
    this.clientTrust = settings.tls() == null ? null : settings.tls().clientCertificateTrust().orElse(null);
    this.openApi = OpenApi.generate(routes, openRoutes());
    this.server = build();
  }

  /**
   * Loads and initialises the HTTP server's classes (Armeria's flags, Netty) on a daemon thread,
   * so that this work overlaps the store's opening instead of adding to the start-up time.
   */
  public static void warmUpInBackground() {
    Thread t = new Thread(() -> {
      try {
        // Not built: a second build would register Armeria's executor meters twice.
        Server.builder().http(0).meterRegistry(NoopMeterRegistry.get())
            .service("/", (ctx, req) -> HttpResponse.of(HttpStatus.OK));
        RouteTable.class.getName();
      } catch (RuntimeException e) {
        // Only a head start: the real build reports any problem.
      }
    }, "http-warm-up");
    t.setDaemon(true);
    t.start();
  }

  /** The routes served without a key, for the OpenAPI document. */
  static List<OpenApi.OpenRoute> openRoutes() {
    return List.of(
        new OpenApi.OpenRoute("GET", HEALTH_PATH, "200 while the authority serves, 503 otherwise", null, true),
        new OpenApi.OpenRoute("GET", JWKS_PATH, "The JWK Set that verifies session tokens",
            dev.tokenauthority.v1.GetJwksResponse.getDescriptor(), false),
        new OpenApi.OpenRoute("GET", OPENAPI_PATH, "This document", null, false));
  }

  private Server build() {
    ServerBuilder sb = Server.builder();
    ServerTls tls = settings.tls();
    if (tls == null) {
      sb.http(settings.port());
    } else {
      sb.https(settings.port()).tls(new KeyManagerFactoryWrapper(tls.keyManager()));
      tls.clientTrustManager().ifPresent(trust -> sb.tlsCustomizer(b -> b.trustManager(trust).clientAuth(ClientAuth.REQUIRE)));
    }
    return sb.maxRequestLength(MAX_BODY_BYTES)
        .maxNumConnections(settings.maxConnections())
        .http2MaxStreamsPerConnection(settings.maxStreamsPerConnection())
        .requestTimeout(settings.requestTimeout())
        .idleTimeout(settings.idleTimeout())
        // A zero quiet period would switch the drain off: Armeria then closes connections with
        // requests in flight. 100 ms after the last response is enough, the grace bounds it all.
        .gracefulShutdownTimeout(DRAIN_QUIET_PERIOD, settings.drainGrace().compareTo(DRAIN_QUIET_PERIOD) < 0
            ? DRAIN_QUIET_PERIOD : settings.drainGrace())
        // Armeria's own meters (not exported) stay out of the global registry.
        .meterRegistry(NoopMeterRegistry.get())
        .errorHandler(errors)
        // Armeria's reporter of "exceptions that didn't reach a LoggingService" would warn, every
        // 10 s, with what clients did (a reset stream, a bad chunk): the error handler already
        // logs the server's own failures, once each.
        .unloggedExceptionsReportInterval(Duration.ZERO)
        .bossGroupFactory(HttpGateway::acceptorGroup)
        .disableServerHeader()
        // Armeria flushes each response's frames as it writes them: three system calls per
        // response where grpc's transport batches several responses into one. Consolidating
        // flushes (up to 256, and at the end of each read) gives the HTTP port the same batching.
        // In front of it, nearest the socket, the close that does not lose the last answers.
        .childChannelPipelineCustomizer(p -> p.addFirst(new FlushConsolidationHandler(256, true))
            .addFirst(new HttpLingeringClose()))
        .serviceUnder("/", new UnaryService())
        .build();
  }

  /**
   * The thread that accepts the port's connections, as Armeria makes it, except that it ends as
   * soon as the stop reaches it. Armeria stops it with Netty's default quiet period, two seconds
   * without a task, which every stop of the HTTP port waited out after its drain was done; by
   * then the port and its connections are closed, so the acceptor has nothing left to do. (The
   * group itself must say so: Armeria's {@code EventLoopGroupBuilder.gracefulShutdown} wraps the
   * group, and the stop reaches the inner one through its channel.) On a transport other than
   * NIO, Armeria's own acceptor.
   */
  private static EventLoopGroup acceptorGroup(String threadName) {
    ThreadFactory threads = task -> {
      Thread t = new FastThreadLocalThread(task, threadName);
      t.setDaemon(false); // as Armeria's: a listening port keeps the process alive
      return t;
    };
    if (Flags.transportType() != TransportType.NIO) {
      return EventLoopGroups.newEventLoopGroup(1, threads);
    }
    return new MultiThreadIoEventLoopGroup(1, threads, NioIoHandler.newFactory()) {
      @Override
      public Future<?> shutdownGracefully() {
        return shutdownGracefully(0, ACCEPTOR_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    };
  }

  /** Starts listening; returns the port (the chosen one for port 0). */
  public int start() {
    server.start().join();
    return port();
  }

  public int port() {
    return server.activeLocalPort();
  }

  /**
   * Stops: a request that arrives from now on is 503 {@code UNAVAILABLE} (it did not run; another
   * replica can take it) and its connection is closed, while the requests already running finish
   * within the drain grace. Armeria's own drain waits for a quiet period that every new request
   * restarts, so under steady traffic it would serve new calls until the grace ran out and then
   * cut off the ones running.
   */
  public CompletableFuture<Void> stop() {
    stoppedAtNanos = System.nanoTime();
    return server.stop().thenRun(() -> {
      int cutOff = errors.cutOffAtShutdown();
      if (cutOff > 0) {
        // As the gRPC port says it: one line, for the calls whose outcome their clients cannot know.
        log.warn("{} HTTP call(s) still running after the grace period were cancelled", cutOff);
      }
    });
  }

  /**
   * Whether the request began arriving after the stop: one whose headers came before it is a call
   * in flight, even when its body (which a unary route waits for) comes after.
   */
  private boolean arrivedAfterStop(ServiceRequestContext ctx) {
    long stoppedAt = stoppedAtNanos;
    if (stoppedAt == Long.MAX_VALUE) {
      return false;
    }
    if (!ctx.log().isAvailable(RequestLogProperty.REQUEST_START_TIME)) {
      return true;
    }
    return ctx.log().partial().requestStartTimeNanos() - stoppedAt >= 0;
  }

  /** The OpenAPI document served at {@code /openapi.json}. */
  String openApi() {
    return openApi;
  }

  /**
   * Every route takes one whole request and gives one whole response. Saying so lets Armeria
   * collect the body in its decoder and write the reply in one go, instead of passing each
   * through its reactive streams (about a quarter of its event loop's work per call).
   */
  private final class UnaryService implements HttpService {
    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
      return HttpGateway.this.serve(ctx, req);
    }

    @Override
    public ExchangeType exchangeType(RoutingContext routingContext) {
      return ExchangeType.UNARY;
    }
  }

  private HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    String method = req.method().name();
    String path = ctx.path();
    if (!path.equals(HEALTH_PATH) && arrivedAfterStop(ctx)) {
      ctx.initiateConnectionShutdown();
      return HttpReplies.envelope(HttpStatus.SERVICE_UNAVAILABLE, "UNAVAILABLE",
          "the server is stopping; this call did not run: retry it on another replica").toHttpResponse();
    }
    boolean untrusted = clientTrust != null && !clientTrust.trusts(ctx.sslSession());
    if (untrusted) {
      // Refused below, and the connection ends once this reply is sent (a GOAWAY sent earlier
      // makes JDK 17's HttpClient drop the reply): the client's next request opens a new one,
      // with a full handshake under the client CAs served now.
      ctx.log().whenComplete().thenRun(ctx::initiateConnectionShutdown);
    }
    switch (path) {
      case HEALTH_PATH, JWKS_PATH, OPENAPI_PATH -> {
        // HEAD as GET (RFC 9110 9.3.2): probes and key fetchers send it; Armeria sends the
        // headers of the reply without its body.
        if (!method.equals("GET") && !method.equals("HEAD")) {
          return HttpReplies.notAllowed(method, OPEN_ROUTE_METHODS).toHttpResponse();
        }
        if (untrusted) {
          // The API routes meet the same check in their interceptors (ClientCertificateInterceptor).
          StatusRuntimeException refusal = ErrorMapper.toStatusException(ClientCertificateInterceptor.untrusted());
          return HttpReplies.failure(refusal.getStatus(), null, refusal.getTrailers()).toHttpResponse();
        }
        return switch (path) {
          case HEALTH_PATH -> health();
          case JWKS_PATH -> HttpResponse.of(jwks(ctx, req));
          default -> HttpResponse.of(ResponseHeaders.of(HttpStatus.OK, HttpHeaderNames.CONTENT_TYPE, MediaType.JSON_UTF_8),
              HttpData.ofUtf8(openApi));
        };
      }
      default -> { }
    }
    RouteTable.Lookup lookup = routes.find(method, path);
    if (lookup instanceof RouteTable.Found found) {
      return HttpResponse.of(req.aggregate().thenCompose(body -> call(ctx, found, body)).thenApply(AggregatedHttpResponse::toHttpResponse));
    }
    if (lookup instanceof RouteTable.WrongMethod wrong) {
      return HttpReplies.notAllowed(method, wrong.allowHeader()).toHttpResponse();
    }
    return HttpReplies.noRoute().toHttpResponse();
  }

  /** The methods {@code path} allows, as an {@code Allow} value; null when it is no route. */
  private String allowedMethods(String path) {
    return switch (path) {
      case HEALTH_PATH, JWKS_PATH, OPENAPI_PATH -> OPEN_ROUTE_METHODS;
      // No route has an empty method: the lookup says which methods this path has, if any.
      default -> routes.find("", path) instanceof RouteTable.WrongMethod wrong ? wrong.allowHeader() : null;
    };
  }

  private CompletableFuture<AggregatedHttpResponse> call(ServiceRequestContext ctx, RouteTable.Found found, AggregatedHttpRequest body) {
    Message request = null;
    RuntimeException unbuilt = null;
    try {
      String encoding = body.headers().get(HttpHeaderNames.CONTENT_ENCODING);
      if (encoding != null && !encoding.strip().equalsIgnoreCase("identity")) {
        // Not read as text: a gzip body would be called "not UTF-8", which sends its sender astray.
        throw AuthorityException.of(ErrorReason.INVALID_REQUEST,
            "a compressed body (content-encoding) is not supported; send the JSON uncompressed");
      }
      request = JsonRequests.decode(found.route(), JsonRequests.text(body.content().array()), found.variables(), query(ctx));
    } catch (AuthorityException e) {
      // Still a call of this method: authenticated first, then refused, measured and audited as
      // gRPC's malformed bodies are, not answered here past the interceptors. (Anything else is a
      // fault of ours, and fails the request as one, with its reference logged.)
      unbuilt = e;
    }
    return HttpCall.start(found.route().definition(), request, unbuilt, metadata(body.headers()), attributes(ctx),
            body.headers().authority(), executor(ctx), ctx.whenRequestCancelling())
        .thenApply(HttpReplies::of);
  }

  private HttpResponse health() {
    boolean up = serving.getAsBoolean();
    return HttpResponse.of(
        ResponseHeaders.of(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
            HttpHeaderNames.CONTENT_TYPE, MediaType.JSON_UTF_8, HttpHeaderNames.CACHE_CONTROL, "no-store"),
        HttpData.ofUtf8(up ? "{\"status\":\"SERVING\"}" : "{\"status\":\"NOT_SERVING\"}"));
  }

  private CompletableFuture<HttpResponse> jwks(ServiceRequestContext ctx, HttpRequest req) {
    Object empty = ((io.grpc.MethodDescriptor.PrototypeMarshaller<?>) openJwks.getMethodDescriptor().getRequestMarshaller())
        .getMessagePrototype();
    return HttpCall.start(openJwks, empty, null, new Metadata(), attributes(ctx), req.headers().authority(), executor(ctx),
            ctx.whenRequestCancelling())
        .thenApply(result -> {
          AggregatedHttpResponse reply = HttpReplies.of(result);
          if (result.status().isOk()) {
            reply = AggregatedHttpResponse.of(
                reply.headers().toBuilder().set(HttpHeaderNames.CACHE_CONTROL, JWKS_CACHE_CONTROL).build(), reply.content());
          }
          return reply.toHttpResponse();
        });
  }

  private Executor executor(ServiceRequestContext ctx) {
    return settings.executor() != null ? settings.executor() : ctx.blockingTaskExecutor();
  }

  private static Map<String, List<String>> query(ServiceRequestContext ctx) {
    Map<String, List<String>> query = new LinkedHashMap<>();
    String raw = ctx.query();
    if (raw != null && !raw.isEmpty()) {
      QueryParams params = QueryParams.fromQueryString(raw);
      for (String name : params.names()) {
        query.put(name, params.getAll(name));
      }
    }
    return query;
  }

  /** The request's headers as gRPC metadata, as grpc's transport would pass them; never grpc's own. */
  private static Metadata metadata(RequestHeaders headers) {
    Metadata metadata = new Metadata();
    headers.forEach((name, value) -> {
      String key = name.toString();
      if (key.startsWith(":") || key.startsWith("grpc-") || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)
          || key.equals("content-length") || key.equals("connection") || key.equals("host") || key.equals("te")) {
        return;
      }
      try {
        metadata.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
      } catch (IllegalArgumentException e) {
        // A header name gRPC cannot carry; no interceptor could read it anyway.
      }
    });
    return metadata;
  }

  private static Attributes attributes(ServiceRequestContext ctx) {
    Attributes.Builder b = Attributes.newBuilder()
        .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, ctx.remoteAddress())
        .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, ctx.localAddress());
    if (ctx.sslSession() != null) {
      b.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, ctx.sslSession());
    }
    return b.build();
  }
}
