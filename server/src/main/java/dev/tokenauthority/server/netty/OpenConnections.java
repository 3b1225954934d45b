package dev.tokenauthority.server.netty;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gRPC port's open connections by their two ends' addresses, so that a call's interceptor can
 * end the connection it came on (grpc gives a call no handle on its transport). Filled by
 * {@link ConnectionLimits}, which sees every connection as it is accepted. Keyed by both ends, so
 * that a call of the HTTP port (another local address) never names a gRPC connection, even one
 * from the same client address and port.
 */
public final class OpenConnections {
  private record Ends(SocketAddress local, SocketAddress remote) {}

  private final Map<Ends, Channel> byEnds = new ConcurrentHashMap<>();

  void opened(Channel connection) {
    Ends ends = new Ends(connection.localAddress(), connection.remoteAddress());
    if (ends.local() != null && ends.remote() != null) {
      byEnds.put(ends, connection);
      connection.closeFuture().addListener(f -> byEnds.remove(ends, connection));
    }
  }

  /**
   * Closes the connection between these addresses, if it is one of this port's: HTTP/2's
   * graceful close, a GOAWAY after which the calls already running finish. The client's next
   * call opens a new one.
   */
  public void close(SocketAddress local, SocketAddress remote) {
    Channel connection = local == null || remote == null ? null : byEnds.get(new Ends(local, remote));
    if (connection != null) {
      connection.close();
    }
  }
}
