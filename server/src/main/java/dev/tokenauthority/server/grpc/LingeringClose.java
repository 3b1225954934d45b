package dev.tokenauthority.server.grpc;

import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.grpc.netty.shaded.io.netty.channel.socket.DuplexChannel;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import io.grpc.netty.shaded.io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection so that what the server wrote last arrives: the server's side first (TCP
 * FIN, after everything written before), then reading and dropping what the client still sends
 * until it closes too, or {@link #LINGER} has passed.
 *
 * <p>A socket closed while bytes from the client sit unread in its receive buffer is reset (TCP
 * RST) instead of closed, and the kernel throws away what the server had written but not yet
 * sent. A draining HTTP/2 connection closes the moment its last call ends, often while the client
 * is still sending (frames of calls it started after the GOAWAY, window updates): the client then
 * loses the answer of a call the server ran, and sees "connection reset" or "Connection closed
 * after GOAWAY". Apache's lingering close and Go's HTTP/2 server wait for the same reason. This
 * handler sits first in the connection's pipeline, so a TLS close_notify has gone out before it.
 */
public final class LingeringClose extends ChannelDuplexHandler {
  /** How long a closing connection waits for the client to close its side. */
  public static final Duration LINGER = Duration.ofSeconds(1);

  private ChannelPromise closing;
  private ScheduledFuture<?> deadline;

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (closing != null) {
      closing.addListener(closed -> promise.trySuccess());
      return;
    }
    if (!(ctx.channel() instanceof DuplexChannel socket) || !socket.isActive() || socket.isOutputShutdown()) {
      ctx.close(promise);
      return;
    }
    closing = promise;
    // Closes of its own get promises of their own: the one asked for is completed once the
    // channel is closed (channelInactive), whichever close gets there first.
    deadline = ctx.executor().schedule(() -> {
      ctx.close();
    }, LINGER.toNanos(), TimeUnit.NANOSECONDS);
    // Writes complete in order: once this one has, everything written before is with the kernel.
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
      if (!written.isSuccess() || !socket.isActive()) {
        ctx.close();
        return;
      }
      socket.shutdownOutput().addListener(shut -> {
        if (!shut.isSuccess()) {
          ctx.close();
        }
      });
      socket.config().setAutoRead(true);
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing != null) {
      ReferenceCountUtil.release(msg); // the connection is closing: nothing more is served
      return;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelOutputShutdownEvent) {
      return; // the shutdown this handler made: the handlers behind it have no use for it (Armeria warns)
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (closing != null) {
      deadline.cancel(false);
      closing.trySuccess();
    }
    super.channelInactive(ctx);
  }
}
