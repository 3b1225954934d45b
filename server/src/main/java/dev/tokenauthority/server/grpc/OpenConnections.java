package dev.tokenauthority.server.grpc;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gRPC port's open connections by their peer's address, so that a call's interceptor can end
 * the connection it came on (grpc gives a call no handle on its transport). Filled by
 * {@link ConnectionLimits}, which sees every connection as it is accepted.
 */
public final class OpenConnections {
  private final Map<SocketAddress, Channel> byPeer = new ConcurrentHashMap<>();

  void opened(Channel connection) {
    SocketAddress peer = connection.remoteAddress();
    if (peer != null) {
      byPeer.put(peer, connection);
      connection.closeFuture().addListener(f -> byPeer.remove(peer, connection));
    }
  }

  /**
   * Closes the connection of this peer, if it is one of this port's: HTTP/2's graceful close, a
   * GOAWAY after which the calls already running finish. The client's next call opens a new one.
   */
  public void close(SocketAddress peer) {
    Channel connection = peer == null ? null : byPeer.get(peer);
    if (connection != null) {
      connection.close();
    }
  }
}
