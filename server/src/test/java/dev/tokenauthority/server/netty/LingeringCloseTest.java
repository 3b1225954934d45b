package dev.tokenauthority.server.netty;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * How a connection of the gRPC port closes: its last bytes reach a client that reads them, and
 * a client that never reads holds the close for {@link Linger#MAX} at most.
 */
class LingeringCloseTest {
  private static final int ANSWER_BYTES = 16 << 20;

  private final NioEventLoopGroup loops = new NioEventLoopGroup(1);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final CompletableFuture<Channel> accepted = new CompletableFuture<>();
  private Channel listener;

  @BeforeEach
  void start() throws Exception {
    logged.start();
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logged);
    // A server that answers every connection with 16 MiB, then closes it.
    listener = new ServerBootstrap()
        .group(loops)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new LingeringClose(), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil.release(msg);
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[ANSWER_BYTES]));
                ctx.close();
                accepted.complete(ctx.channel());
              }
            });
          }
        })
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  @AfterEach
  void stop() throws Exception {
    listener.close().sync();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logged);
  }

  private int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  @Test
  void aClientStillSending_readsTheWholeAnswer_thenAnOrderlyEnd() throws Exception {
    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port())) {
      client.setSoTimeout(10_000);
      OutputStream out = client.getOutputStream();
      out.write(1);
      out.flush();
      // More bytes the server will not read, sent while its answer is on the way.
      out.write(new byte[64 << 10]);
      out.flush();

      long read = readToTheEnd(client.getInputStream());
      assertThat(read).as("every byte written before the close, then EOF, not a reset").isEqualTo(ANSWER_BYTES);
    }
    assertThat(accepted.get(5, TimeUnit.SECONDS).closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(warnings()).isEmpty();
  }

  @Test
  void aClientThatReadsLateAndSendsForLongerThanASecond_stillReadsTheWholeAnswer() throws Exception {
    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port())) {
      client.setSoTimeout(10_000);
      OutputStream out = client.getOutputStream();
      out.write(1);
      out.flush();
      Thread sender = new Thread(() -> {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
        try {
          while (System.nanoTime() < until) {
            out.write(new byte[1024]);
            out.flush();
            Thread.sleep(5);
          }
        } catch (Exception e) {
          // a reset: the reader says so
        }
      }, "lingering-close-test-sender");
      sender.start();
      Thread.sleep(1_200); // the answer waits in the kernels and in Netty's buffer meanwhile

      long read = readToTheEnd(client.getInputStream());
      sender.join(5_000);
      assertThat(read).as("every byte written before the close, then EOF, not a reset").isEqualTo(ANSWER_BYTES);
    }
    assertThat(warnings()).isEmpty();
  }

  @Test
  void aClientThatNeverReads_holdsTheCloseForTheLongestLingerAtMost_andNothingIsLogged() throws Exception {
    try (Socket client = new Socket()) {
      client.setReceiveBufferSize(4096);
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()));
      client.getOutputStream().write(1);
      client.getOutputStream().flush();

      Channel server = accepted.get(5, TimeUnit.SECONDS);
      long started = System.nanoTime();
      assertThat(server.closeFuture().await(5, TimeUnit.SECONDS)).as("closed").isTrue();
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(tookMillis).as("the linger, not more").isLessThan(Linger.MAX.toMillis() + 2_000);
      assertThat(server.closeFuture().isSuccess()).isTrue();
    }
    Thread.sleep(100); // a listener's warning would come right after the close
    assertThat(warnings()).isEmpty();
  }

  /** How many bytes came before the end; a reset throws. */
  private static long readToTheEnd(InputStream in) throws java.io.IOException {
    long read = 0;
    byte[] buffer = new byte[64 << 10];
    int n;
    while ((n = in.read(buffer)) != -1) {
      read += n;
    }
    return read;
  }

  private java.util.List<String> warnings() {
    return logged.list.stream()
        .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage())
        .toList();
  }
}
