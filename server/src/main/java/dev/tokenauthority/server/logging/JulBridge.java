package dev.tokenauthority.server.logging;

import java.util.Set;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Routes java.util.logging (where grpc-java and Netty log) into SLF4J, so that their lines take
 * the same one-line, asynchronous path as ours instead of JUL's console handler, which writes to
 * stderr synchronously from a Netty event loop and freezes every connection when stderr stalls.
 *
 * <p>What a client does to its own streams (disconnects with calls in flight, resets, frames cut
 * short) is logged by grpc-java as a WARNING per stream; it is the client's business, not the
 * operator's, so it is lowered to DEBUG here. logback's {@code LevelChangePropagator} keeps the
 * JUL levels in step with logback's, so a disabled level costs nothing on the JUL side.
 */
public final class JulBridge extends SLF4JBridgeHandler {
  private static final String NETTY = "io.grpc.netty.shaded.io.grpc.netty.";
  /** grpc-java's loggers of per-stream and per-connection trouble caused by the peer. */
  private static final Set<String> PEER_TROUBLE =
      Set.of(
          NETTY + "NettyServerHandler",
          NETTY + "NettyServerStream",
          NETTY + "NettyServerTransport",
          "io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandler",
          "io.grpc.netty.shaded.io.netty.channel.DefaultChannelPipeline");

  private JulBridge() {}

  /** Replaces JUL's root handlers (the console one) with this bridge; idempotent. */
  public static synchronized void install() {
    java.util.logging.Logger root = LogManager.getLogManager().getLogger("");
    for (java.util.logging.Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    root.addHandler(new JulBridge());
  }

  @Override
  public void publish(LogRecord record) {
    if (record != null && record.getLevel().intValue() > Level.FINE.intValue() && fromPeerTrouble(record)) {
      record.setLevel(Level.FINE);
    }
    super.publish(record);
  }

  private static boolean fromPeerTrouble(LogRecord record) {
    String name = record.getLoggerName();
    // Only warnings: an error of grpc-java itself stays an error.
    return name != null && PEER_TROUBLE.contains(name) && record.getLevel().intValue() <= Level.WARNING.intValue();
  }
}
