package dev.tokenauthority.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.List;
import org.slf4j.Marker;

/**
 * Drops the warnings Armeria (the HTTP port's server) logs about what a peer did wrong: an HTTP/2
 * connection error raised by the codec for a bad frame or header block, an HTTP/1.1 request
 * whose {@code Expect} header it cannot meet (answered 417), and a TLS handshake that failed by
 * the client's doing (no certificate where mTLS asks for one, one of another CA or expired, plain
 * text on the TLS port, an old protocol or no common cipher; the gRPC port logs none of these
 * either). Anyone can send those, without a key, once
 * per connection or request. Every other warning of the same loggers, which may be the
 * server's own trouble, still reaches the log; grpc-java's peer trouble is {@link JulBridge}'s.
 * The built-in set-up installs it; an operator's logback.xml can name it as a
 * {@code <turboFilter class="dev.tokenauthority.server.logging.PeerTroubleFilter"/>}.
 */
public final class PeerTroubleFilter extends TurboFilter {
  static final String HTTP2_HANDLER = "com.linecorp.armeria.internal.common.AbstractHttp2ConnectionHandler";
  static final String SERVER_HANDLER = "com.linecorp.armeria.server.HttpServerHandler";
  static final String PIPELINE = "com.linecorp.armeria.server.HttpServerPipelineConfigurator";
  static final String NOT_SSL_RECORD = "io.netty.handler.ssl.NotSslRecordException";
  /**
   * The handshake failures that are the client's: no certificate where mTLS asks for one, one of
   * another CA, an expired one or one not meant for TLS clients, plain text on the TLS port, and
   * what any client can offer without a certificate (an old protocol, no cipher we take). Others,
   * such as a client refusing our certificate, may be the server's own trouble and stay visible.
   */
  private static final List<String> PEER_TLS_MISTAKES =
      List.of("Empty client certificate chain", "unable to find valid certification path", "not an SSL/TLS record",
          "validity check failed", "Extended key usage does not permit", "is not enabled or supported",
          "no cipher suites in common", "Unsupported or unrecognized SSL message");

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level != Level.WARN || format == null) {
      return FilterReply.NEUTRAL;
    }
    if (params == null) {
      params = new Object[0];
    }
    String name = logger.getName();
    if (name.equals(HTTP2_HANDLER) && format.contains("HTTP/2 connection error") && any(params, "io.netty.handler.codec.http2.Http2Exception")) {
      return FilterReply.DENY;
    }
    if (name.equals(SERVER_HANDLER) && format.contains("Unexpected user event")
        && any(params, "io.netty.handler.codec.http.HttpExpectationFailedEvent")) {
      return FilterReply.DENY;
    }
    if (name.equals(PIPELINE) && format.contains("TLS handshake failed") && mentions(params, PEER_TLS_MISTAKES)) {
      return FilterReply.DENY;
    }
    // Plain text on the TLS port: Netty's message quotes the peer's bytes in hex, which for an
    // HTTP request include its Authorization header. Dropped whole, never logged.
    if (name.equals(PIPELINE) && causedBy(params, t, NOT_SSL_RECORD)) {
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }

  /** Whether the throwable, or one among the parameters, is or was caused by the named class. */
  private static boolean causedBy(Object[] params, Throwable t, String className) {
    if (chainHas(t, className)) {
      return true;
    }
    for (Object p : params) {
      if (p instanceof Throwable thrown && chainHas(thrown, className)) {
        return true;
      }
    }
    return false;
  }

  private static boolean chainHas(Throwable t, String className) {
    for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
      if (t.getClass().getName().equals(className)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a parameter's text holds one of {@code phrases}. */
  private static boolean mentions(Object[] params, List<String> phrases) {
    for (Object p : params) {
      String text = String.valueOf(p);
      if (phrases.stream().anyMatch(text::contains)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a parameter is of the named class or a subclass of it (by name: Netty is not on every class path). */
  private static boolean any(Object[] params, String className) {
    for (Object p : params) {
      for (Class<?> c = p == null ? null : p.getClass(); c != null; c = c.getSuperclass()) {
        if (c.getName().equals(className)) {
          return true;
        }
      }
    }
    return false;
  }
}
