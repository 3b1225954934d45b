package dev.tokenauthority.server.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.http.HttpGateway;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.RequestHeaders;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * With the libraries' loggers at TRACE, as an operator's own logback.xml may set them, the wire
 * loggers of both ports (grpc-java's HTTP/2 frame logger, Armeria's traffic loggers) still never
 * write a caller's API key: their header frames and raw bytes are dropped, their other lines are
 * kept.
 */
class WireLoggingTest {
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final List<String> LIBRARIES = List.of("io.grpc", "io.netty", "com.linecorp.armeria");

  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Map<String, Level> levels = new HashMap<>();
  private TokenAuthorityServer server;
  private ManagedChannel channel;
  private String adminSecret;

  @BeforeEach
  void start() throws Exception {
    logged.start();
    // What an operator's file with these loggers at TRACE gives; kept out of the test's console.
    for (String name : LIBRARIES) {
      Logger logger = context.getLogger(name);
      levels.put(name, logger.getLevel());
      logger.setLevel(Level.TRACE);
      logger.setAdditive(false);
      logger.addAppender(logged);
    }

    Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), new TestClock());
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    server = new TokenAuthorityServer(builder, authority, Duration.ofHours(1), null, null, HttpGateway.Settings.plain(0)).start();
    adminSecret = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop(Duration.ZERO);
    levels.forEach((name, level) -> {
      Logger logger = context.getLogger(name);
      logger.detachAppender(logged);
      logger.setAdditive(true);
      logger.setLevel(level);
    });
  }

  @Test
  void callsOnBothPorts_withEveryLoggerAtTrace_neverLogTheApiKey() throws Exception {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + adminSecret);
    TokenAuthorityGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .listApiKeys(ListApiKeysRequest.getDefaultInstance());

    URI keys = URI.create("http://127.0.0.1:" + server.httpPort() + "/v1/apiKeys");
    for (HttpClient.Version version : HttpClient.Version.values()) {
      HttpClient http = HttpClient.newBuilder().version(version).build();
      HttpResponse<String> answer = http.send(
          HttpRequest.newBuilder(keys).header("Authorization", "Bearer " + adminSecret).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).as("%s", version).isEqualTo(200);
    }

    // h2c with prior knowledge, as curl --http2-prior-knowledge and Envoy send it.
    AggregatedHttpResponse h2c = WebClient.of("h2c://127.0.0.1:" + server.httpPort())
        .execute(RequestHeaders.of(HttpMethod.GET, "/v1/apiKeys", HttpHeaderNames.AUTHORIZATION, "Bearer " + adminSecret))
        .aggregate().join();
    assertThat(h2c.status().code()).isEqualTo(200);

    List<ILoggingEvent> events = List.copyOf(logged.list);
    assertThat(events)
        .as("grpc-java's frame logger was on, so the test would have seen a header frame")
        .anyMatch(e -> e.getLoggerName().startsWith("io.grpc.netty") && e.getFormattedMessage().contains("SETTINGS"));
    assertThat(events)
        .filteredOn(e -> e.getFormattedMessage().contains(adminSecret)
            || (e.getThrowableProxy() != null && String.valueOf(e.getThrowableProxy().getMessage()).contains(adminSecret)))
        .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage())
        .isEmpty();
  }
}
