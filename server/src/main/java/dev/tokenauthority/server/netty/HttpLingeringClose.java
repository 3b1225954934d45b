package dev.tokenauthority.server.netty;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/JSON port's {@link LingeringClose}: the same close (FIN first, then read and drop
 * until the client closes or {@link Linger} finds the close safe), for Armeria's connections,
 * which run on Netty itself where grpc's run on its shaded copy, so one class cannot serve both.
 * Without it, a connection Armeria closes with the client's bytes unread (the end of a drain, a
 * malformed request after pipelined ones, Connection: close) is reset, and the answers still in
 * the kernel's send queue are lost. Installed first in each connection's pipeline, so a flush
 * consolidated by Armeria's handlers and a TLS close_notify have gone out before it acts.
 */
public final class HttpLingeringClose extends ChannelDuplexHandler {
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
