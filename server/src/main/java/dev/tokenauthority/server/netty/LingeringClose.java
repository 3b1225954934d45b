package dev.tokenauthority.server.netty;

import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.grpc.netty.shaded.io.netty.channel.socket.DuplexChannel;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import io.grpc.netty.shaded.io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection so that what the server wrote last arrives: the server's side first (TCP
 * FIN, after everything written before), then reading and dropping what the client still sends
 * until it closes too, or is quiet long enough for the close to be safe ({@link Linger}).
 *
 * <p>A socket closed while bytes from the client sit unread in its receive buffer is reset (TCP
 * RST) instead of closed, and the kernel throws away what the server had written but not yet
 * sent. A draining HTTP/2 connection closes the moment its last call ends, often while the client
 * is still sending (frames of calls it started after the GOAWAY, window updates): the client then
 * loses the answer of a call the server ran, and sees "connection reset" or "Connection closed
 * after GOAWAY". Apache's and nginx's lingering close and Go's HTTP/2 server wait for the same
 * reason. This handler sits first in the connection's pipeline, so a TLS close_notify has gone
 * out before it.
 */
public final class LingeringClose extends ChannelDuplexHandler {
  private ChannelPromise closing;
  private Linger linger;
  private ScheduledFuture<?> check;

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
    linger = new Linger(System.nanoTime());
    // Closes of its own get promises of their own: the one asked for is completed once the
    // channel is closed (channelInactive), whichever close gets there first.
    check = ctx.executor().schedule(() -> closeWhenSafe(ctx), Linger.QUIET.toNanos(), TimeUnit.NANOSECONDS);
    // Writes complete in order: once this one has, everything written before is with the kernel.
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
      if (!written.isSuccess() || !socket.isActive()) {
        ctx.close();
        return;
      }
      socket.shutdownOutput().addListener(shut -> {
        if (shut.isSuccess()) {
          linger.finSent(System.nanoTime());
        } else {
          ctx.close();
        }
      });
      socket.config().setAutoRead(true);
    });
  }

  private void closeWhenSafe(ChannelHandlerContext ctx) {
    if (!ctx.channel().isOpen()) {
      return;
    }
    long wait = linger.nanosToWait(System.nanoTime());
    if (wait <= 0) {
      ctx.close();
    } else {
      check = ctx.executor().schedule(() -> closeWhenSafe(ctx), wait, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing != null) {
      linger.heard(System.nanoTime());
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
      check.cancel(false);
      closing.trySuccess();
    }
    super.channelInactive(ctx);
  }
}
