package dev.tokenauthority.server.netty;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounds of the gRPC port, per connection and per process, applied to a
 * {@link NettyServerBuilder}: open connections, calls in flight per connection (HTTP/2
 * MAX_CONCURRENT_STREAMS, which also bounds the responses a client that does not read can make
 * the server hold), stream resets per window (rapid reset), time to finish the handshake,
 * keepalive pings and how often a client may send its own, how long an idle connection is kept,
 * and the size of request metadata. Messages are bounded by the server itself.
 *
 * <p>The connection limit sits on the listening socket's pipeline, ahead of grpc's acceptor: a
 * connection over the limit is answered, on a plaintext port, with an HTTP/2 GOAWAY
 * ENHANCE_YOUR_CALM whose debug data says "too many connections", and closed before grpc sees
 * it. Owning that pipeline means owning the event loops too (grpc's rule), so {@link #apply}
 * returns them to be shut down after the server.
 */
public record ConnectionLimits(
    int maxConnections,
    int maxCallsPerConnection,
    int maxResetsPer10s,
    Duration handshakeTimeout,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration permitKeepAliveTime,
    Duration maxConnectionIdle,
    int maxMetadataBytes) {
  /** {@code --max-connections} unless set: per port. */
  public static final int DEFAULT_MAX_CONNECTIONS = 2000;
  /** {@code --max-calls-per-connection} unless set: HTTP/2 MAX_CONCURRENT_STREAMS, on both ports. */
  public static final int DEFAULT_MAX_CALLS_PER_CONNECTION = 100;

  private static final Logger log = LoggerFactory.getLogger(ConnectionLimits.class);
  /** Refused connections are logged at most this often, with the count since the last line. */
  private static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  /**
   * Applies every limit to {@code builder}.
   *
   * @param plaintext whether the port speaks HTTP/2 without TLS (a refusal can then say why)
   * @return the event loops the builder now runs on; close after the server has stopped
   */
  public AutoCloseable apply(NettyServerBuilder builder, boolean plaintext) {
    return apply(builder, plaintext, new OpenConnections());
  }

  /** {@link #apply(NettyServerBuilder, boolean)}, noting every connection it lets in in {@code connections}. */
  public AutoCloseable apply(NettyServerBuilder builder, boolean plaintext, OpenConnections connections) {
    builder
        .maxConcurrentCallsPerConnection(maxCallsPerConnection)
        .maxRstFramesPerWindow(maxResetsPer10s, 10)
        .handshakeTimeout(handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTime(keepAliveTime.toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(keepAliveTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveTime(permitKeepAliveTime.toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxConnectionIdle(maxConnectionIdle.toMillis(), TimeUnit.MILLISECONDS)
        .maxInboundMetadataSize(maxMetadataBytes);
    EventLoopGroup boss;
    EventLoopGroup workers;
    ConnectionCounter counter = new ConnectionCounter(maxConnections, plaintext, connections);
    if (Epoll.isAvailable()) {
      boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("grpc-boss", true));
      workers = new EpollEventLoopGroup(0, new DefaultThreadFactory("grpc-worker", true));
      builder.channelFactory(() -> counted(new EpollServerSocketChannel(), counter));
    } else {
      boss = new NioEventLoopGroup(1, new DefaultThreadFactory("grpc-boss", true));
      workers = new NioEventLoopGroup(0, new DefaultThreadFactory("grpc-worker", true));
      builder.channelFactory(() -> counted(new NioServerSocketChannel(), counter));
    }
    builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers);
    return () -> {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    };
  }

  private static ServerChannel counted(ServerChannel listener, ConnectionCounter counter) {
    listener.pipeline().addLast(counter);
    return listener;
  }

  /** Counts accepted connections; refuses those over the limit before grpc sets them up. */
  @ChannelHandler.Sharable
  static final class ConnectionCounter extends ChannelInboundHandlerAdapter {
    /** An empty SETTINGS frame: the server's connection preface. */
    private static final byte[] SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    private static final byte[] GOAWAY = goAway("too many connections");

    private final int max;
    private final boolean plaintext;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refusedSinceLog = new AtomicLong();
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - REFUSAL_LOG_INTERVAL_NANOS);

    private final OpenConnections connections;

    ConnectionCounter(int max, boolean plaintext, OpenConnections connections) {
      this.max = max;
      this.plaintext = plaintext;
      this.connections = connections;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel child = (Channel) msg;
      if (open.incrementAndGet() > max) {
        open.decrementAndGet();
        noteRefusal();
        refuse(ctx, child);
        return;
      }
      child.closeFuture().addListener(f -> open.decrementAndGet());
      connections.opened(child);
      // Not a limit, but the one place a connection is seen before grpc sets it up.
      DrainHandlers.install(child, plaintext);
      ctx.fireChannelRead(msg);
    }

    /** Says why on a plaintext port (TLS would need a handshake first) and closes. */
    private void refuse(ChannelHandlerContext ctx, Channel child) {
      // Not yet registered with a worker loop: borrow the listener's just to say goodbye.
      ctx.channel().eventLoop().register(child).addListener(registered -> {
        if (!registered.isSuccess()) {
          child.unsafe().closeForcibly();
        } else if (plaintext) {
          child.writeAndFlush(Unpooled.wrappedBuffer(SETTINGS, GOAWAY)).addListener(ChannelFutureListener.CLOSE);
        } else {
          child.close();
        }
      });
    }

    private void noteRefusal() {
      long refused = refusedSinceLog.incrementAndGet();
      long now = System.nanoTime();
      long last = lastLogNanos.get();
      if (now - last >= REFUSAL_LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
        refusedSinceLog.addAndGet(-refused);
        log.warn("refused {} connection(s): {} open, the limit (--max-connections)", refused, max);
      }
    }

    private static byte[] goAway(String debug) {
      byte[] text = debug.getBytes(StandardCharsets.US_ASCII);
      int length = 8 + text.length;
      byte[] frame = new byte[9 + length];
      frame[0] = (byte) (length >>> 16);
      frame[1] = (byte) (length >>> 8);
      frame[2] = (byte) length;
      frame[3] = 7; // GOAWAY; flags 0, stream 0, last stream id 0
      frame[16] = 0x0b; // ENHANCE_YOUR_CALM
      System.arraycopy(text, 0, frame, 17, text.length);
      return frame;
    }
  }
}
