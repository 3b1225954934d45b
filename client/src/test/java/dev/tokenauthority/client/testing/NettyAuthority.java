package dev.tokenauthority.client.testing;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.store.memory.MemoryStore;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The real server on a memory store, listening on a free loopback port over Netty (plaintext),
 * with a bootstrapped admin key: what a client or the CLI reaches over a real socket.
 */
public final class NettyAuthority implements AutoCloseable {
  private final Authority authority;
  private final TokenAuthorityServer server;
  private final String adminSecret;

  private NettyAuthority() {
    this.authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), Clock.systemUTC());
    this.adminSecret = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    this.server =
        new TokenAuthorityServer(
            NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
            authority,
            Duration.ofHours(1));
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static NettyAuthority start() {
    return new NettyAuthority();
  }

  /** {@code 127.0.0.1:<port>}. */
  public String target() {
    return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.port();
  }

  public String adminSecret() {
    return adminSecret;
  }

  public Authority authority() {
    return authority;
  }

  @Override
  public void close() {
    try {
      server.stop(Duration.ofSeconds(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      authority.store().close();
    }
  }
}
