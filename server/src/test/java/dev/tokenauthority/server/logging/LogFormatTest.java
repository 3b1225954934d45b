package dev.tokenauthority.server.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tokenauthority.server.testing.ServerLoggingSwitch;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server's logging ({@link ServerLogging}) with java.util.logging bridged: one line per event,
 * and what a client does to its own streams below the default level.
 */
class LogFormatTest {
  private static final LoggerContext CONTEXT = ServerLoggingSwitch.context();
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();

  @BeforeAll
  static void bridgeAndConfigureAsTheServer() throws Exception {
    JulBridge.install();
    ServerLoggingSwitch.toTheServers();
  }

  @AfterAll
  static void configureAsTheOtherTests() throws Exception {
    ServerLoggingSwitch.backToTheTests();
  }

  @AfterEach
  void detach() {
    CONTEXT.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(events);
  }

  private void capture() {
    events.start();
    CONTEXT.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(events);
  }

  @Test
  void julWarning_streamErrorOfGrpcNetty_isBelowTheDefaultLevel() {
    capture();
    java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler")
        .log(Level.WARNING, "Stream Error", new IllegalStateException("Stream closed before write could take place"));

    assertThat(events.list).isEmpty();
  }

  @Test
  void julSevere_ofGrpc_reachesLogback() {
    capture();
    java.util.logging.Logger.getLogger("io.grpc.internal.SerializingExecutor")
        .log(Level.SEVERE, "Exception while executing runnable", new IllegalStateException("boom"));

    assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly("Exception while executing runnable");
  }

  @Test
  void flywaysMigrationFailure_isLeftToTheStartsOneLine_butItsNewerSchemaWarningShows() {
    capture();
    org.slf4j.Logger flyway = CONTEXT.getLogger("org.flywaydb.core.internal.command.DbMigrate");
    flyway.error("Migration of schema \"public\" to version \"7\" failed! Changes successfully rolled back.");
    flyway.warn("Schema \"public\" has a version (99) that is newer than the latest available migration (7) !");

    assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly("Schema \"public\" has a version (99) that is newer than the latest available migration (7) !");
  }

  @Test
  void julFine_ofGrpc_isNotEvenFormatted() {
    // LevelChangePropagator keeps JUL's level equal to logback's WARN for io.grpc.
    assertThat(java.util.logging.Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler")
        .isLoggable(Level.FINE)).isFalse();
  }

  @Test
  void exceptionWithCauses_isPrintedOnOneLine() {
    PatternLayout layout = ServerLogging.lineLayout(CONTEXT);
    RuntimeException failure = new RuntimeException("outer\nsecond line", new java.io.IOException("inner"));
    ch.qos.logback.classic.spi.LoggingEvent event = new ch.qos.logback.classic.spi.LoggingEvent(
        LogFormatTest.class.getName(), CONTEXT.getLogger("test"), ch.qos.logback.classic.Level.ERROR,
        "failed\nbadly", failure, null);

    String line = layout.doLayout(event);

    assertThat(line).endsWith("\n");
    assertThat(line.substring(0, line.length() - 1)).doesNotContain("\n", "\r");
    assertThat(line).matches("(?s)\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) ERROR \\[[^]]+] test - .*");
    assertThat(line).contains(" - failed badly | java.lang.RuntimeException: outer second line (at dev.tokenauthority.server.logging.LogFormatTest.")
        .contains(" <- java.io.IOException: inner (at ");
  }

  @Test
  void armeriasPeerWarnings_areDropped_itsOtherWarningsAreNot_andAnOperatorsFileCanNameTheFilter() throws Exception {
    Object peer = io.netty.handler.codec.http2.Http2Exception.connectionError(io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR, "bad frame");
    // As the operator's logback.xml of deployment.md would, on a context of its own.
    LoggerContext operators = new LoggerContext();
    ch.qos.logback.classic.joran.JoranConfigurator joran = new ch.qos.logback.classic.joran.JoranConfigurator();
    joran.setContext(operators);
    joran.doConfigure(new java.io.ByteArrayInputStream(
        "<configuration><turboFilter class=\"dev.tokenauthority.server.logging.PeerTroubleFilter\"/></configuration>"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    for (LoggerContext context : new LoggerContext[] {CONTEXT, operators}) {
      ListAppender<ILoggingEvent> seen = new ListAppender<>();
      seen.start();
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(seen);
      org.slf4j.Logger h2 = context.getLogger(PeerTroubleFilter.HTTP2_HANDLER);
      h2.warn("{} HTTP/2 connection error:", "[id: 0x1]", peer);
      h2.warn("{} HTTP/2 connection error:", "[id: 0x2]", new NullPointerException("a fault of the library"));
      context.getLogger(PeerTroubleFilter.SERVER_HANDLER).warn("{} Unexpected exception:", "[id: 0x3]", new IllegalStateException("ours"));
      // A client without the certificate mTLS asks for: Armeria's format, as 1.36 logs it.
      context.getLogger(PeerTroubleFilter.PIPELINE).warn("{} TLS handshake failed: {}", "[id: 0x4]", "Empty client certificate chain");
      // What any client can send, certificate or not, each once per connection (as 1.36 and the JDK word them).
      for (String mistake : new String[] {
          "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed",
          "Extended key usage does not permit use for TLS client authentication",
          "Client requested protocol TLSv1.1 is not enabled or supported in server context",
          "no cipher suites in common"}) {
        context.getLogger(PeerTroubleFilter.PIPELINE).warn("{} TLS handshake failed: {}", "[id: 0x6]", mistake);
      }
      // Plain text on the TLS port: Netty quotes the peer's bytes in hex, an Authorization header among them.
      String secretInHex = java.util.HexFormat.of().formatHex("Authorization: Bearer sk_secret".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      context.getLogger(PeerTroubleFilter.PIPELINE).warn("{} Unexpected exception:", "[id: 0x7]",
          new io.netty.handler.codec.DecoderException(new io.netty.handler.ssl.NotSslRecordException("not an SSL/TLS record: " + secretInHex)));
      // A client refusing our certificate may be our trouble (an expired one): it stays.
      context.getLogger(PeerTroubleFilter.PIPELINE).warn("{} TLS handshake failed: {}", "[id: 0x5]", "Received fatal alert: certificate_expired");
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(seen);

      assertThat(seen.list).extracting(ILoggingEvent::getFormattedMessage)
          .containsExactly("[id: 0x2] HTTP/2 connection error:", "[id: 0x3] Unexpected exception:",
              "[id: 0x5] TLS handshake failed: Received fatal alert: certificate_expired");
    }
  }

  @Test
  void anOperatorsLogbackFile_onTheClassPath_winsOverTheBuiltInSetUp() {
    // Tests have logback-test.xml on the class path, as an operator's logback.xml would be.
    LoggerContext fresh = new LoggerContext();
    ServerLogging configurator = new ServerLogging();
    configurator.setContext(fresh);

    assertThat(configurator.configure(fresh)).isEqualTo(ch.qos.logback.classic.spi.Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(fresh.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
  }
}
