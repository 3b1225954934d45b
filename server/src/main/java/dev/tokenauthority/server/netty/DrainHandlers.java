package dev.tokenauthority.server.netty;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds to an accepted connection what a drain needs beyond grpc's own handlers:
 * {@link LingeringClose} first in the pipeline, so the connection's last answers are not lost to
 * a reset, and {@link LateStreamFrames} just in front of grpc's HTTP/2 handler (behind TLS), so
 * the calls a draining connection carries are not lost to a connection error.
 */
final class DrainHandlers {
  private static final Logger log = LoggerFactory.getLogger(DrainHandlers.class);

  private DrainHandlers() {}

  /**
   * Installs both on {@code child}, a connection just accepted and not yet registered; they are
   * placed once grpc (and TLS) have set up its pipeline.
   */
  static void install(Channel child, boolean plaintext) {
    child.pipeline().addFirst(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.remove(this);
        if (plaintext) {
          pipeline.addFirst(new LateStreamFrames());
        } else if (pipeline.get(SslHandler.class) != null) {
          pipeline.addAfter(pipeline.context(SslHandler.class).name(), null, new LateStreamFrames());
        } else {
          log.debug("no TLS handler on {}; late frames are not filtered", ctx.channel());
        }
        pipeline.addFirst(new LingeringClose());
        ctx.fireChannelActive();
      }
    });
  }
}
