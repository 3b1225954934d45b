package dev.tokenauthority.server.netty;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Connection;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a draining connection alive for the calls it still carries.
 *
 * <p>On shutdown the server sends GOAWAY, then a second GOAWAY naming the last stream it will
 * serve. A client that started more streams in between (grpc-java does, for calls it had queued
 * beyond MAX_CONCURRENT_STREAMS) then sends their DATA. Netty refuses the HEADERS of such a
 * stream (RST_STREAM REFUSED_STREAM, which the client may retry), but takes its DATA,
 * WINDOW_UPDATE or RST_STREAM as a connection error and closes the connection: every call still
 * running on it loses its answer, though the server ran it (a redeemed token the client never
 * hears about). This handler sits just in front of grpc's HTTP/2 handler (behind TLS), follows the
 * frame boundaries, and once a GOAWAY has been sent drops those frames of streams the server
 * never opened. Before any GOAWAY it only counts bytes.
 */
final class LateStreamFrames extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(LateStreamFrames.class);
  private static final int PREFACE_BYTES = 24;
  private static final int FRAME_HEADER_BYTES = 9;
  private static final int DATA = 0x0;
  private static final int RST_STREAM = 0x3;
  private static final int WINDOW_UPDATE = 0x8;

  private Http2Connection connection;
  private int prefaceLeft = PREFACE_BYTES;
  private final byte[] header = new byte[FRAME_HEADER_BYTES];
  private int headerFilled;
  /** How many bytes of the partly read header have already gone on (read before a GOAWAY). */
  private int headerPassed;
  private long payloadLeft;
  private boolean dropping;
  private long droppedFrames;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    Http2Connection http2 = connection(ctx);
    if (http2 == null || !http2.goAwaySent()) {
      follow(in);
      ctx.fireChannelRead(in);
      return;
    }
    try {
      filter(ctx, in, http2);
    } finally {
      in.release();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (droppedFrames > 0) {
      log.debug("dropped {} frame(s) of streams opened after GOAWAY on {}", droppedFrames, ctx.channel());
    }
    ctx.fireChannelInactive();
  }

  /** Moves past the frames in {@code in} without changing it. */
  private void follow(ByteBuf in) {
    int at = in.readerIndex();
    int end = in.writerIndex();
    while (at < end) {
      if (prefaceLeft > 0) {
        int n = Math.min(prefaceLeft, end - at);
        prefaceLeft -= n;
        at += n;
      } else if (payloadLeft > 0) {
        int n = (int) Math.min(payloadLeft, end - at);
        payloadLeft -= n;
        at += n;
      } else if (headerFilled == 0 && end - at >= FRAME_HEADER_BYTES) {
        payloadLeft = in.getUnsignedMedium(at);
        dropping = false;
        at += FRAME_HEADER_BYTES;
      } else {
        int n = Math.min(FRAME_HEADER_BYTES - headerFilled, end - at);
        in.getBytes(at, header, headerFilled, n);
        headerFilled += n;
        at += n;
        headerPassed = headerFilled;
        if (headerFilled == FRAME_HEADER_BYTES) {
          headerFilled = 0;
          headerPassed = 0;
          payloadLeft = payloadLength();
          dropping = false;
        }
      }
    }
  }

  /**
   * Passes the bytes of {@code in} on frame by frame, so that each decision sees the connection
   * as grpc left it after the frames before; drops the frames of streams opened too late.
   */
  private void filter(ChannelHandlerContext ctx, ByteBuf in, Http2Connection http2) {
    while (in.isReadable()) {
      if (prefaceLeft > 0) {
        int n = Math.min(prefaceLeft, in.readableBytes());
        prefaceLeft -= n;
        ctx.fireChannelRead(in.readRetainedSlice(n));
      } else if (payloadLeft > 0) {
        int n = (int) Math.min(payloadLeft, in.readableBytes());
        payloadLeft -= n;
        if (dropping) {
          in.skipBytes(n);
        } else {
          ctx.fireChannelRead(in.readRetainedSlice(n));
        }
      } else {
        int n = Math.min(FRAME_HEADER_BYTES - headerFilled, in.readableBytes());
        in.readBytes(header, headerFilled, n);
        headerFilled += n;
        if (headerFilled < FRAME_HEADER_BYTES) {
          return; // held back until the rest of the header comes
        }
        headerFilled = 0;
        payloadLeft = payloadLength();
        dropping = headerPassed == 0 && openedTooLate(http2);
        if (dropping) {
          droppedFrames++;
        } else {
          // When the header's first bytes went on before the GOAWAY, the rest of them follow.
          ctx.fireChannelRead(Unpooled.copiedBuffer(header, headerPassed, FRAME_HEADER_BYTES - headerPassed));
        }
        headerPassed = 0;
      }
    }
  }

  private long payloadLength() {
    return ((header[0] & 0xffL) << 16) | ((header[1] & 0xffL) << 8) | (header[2] & 0xffL);
  }

  /**
   * A frame that Netty would take as a connection error: DATA, WINDOW_UPDATE or RST_STREAM of a
   * client stream the server never opened because it came after the GOAWAY.
   */
  private boolean openedTooLate(Http2Connection http2) {
    int type = header[3] & 0xff;
    if (type != DATA && type != WINDOW_UPDATE && type != RST_STREAM) {
      return false;
    }
    int streamId = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8) | (header[8] & 0xff);
    Http2Connection.Endpoint<?> clients = http2.remote();
    return streamId != 0
        && clients.isValidStreamId(streamId)
        && streamId > clients.lastStreamKnownByPeer()
        && streamId > clients.lastStreamCreated()
        && http2.stream(streamId) == null;
  }

  private Http2Connection connection(ChannelHandlerContext ctx) {
    if (connection == null) {
      Http2ConnectionHandler grpc = ctx.pipeline().get(Http2ConnectionHandler.class);
      if (grpc != null) {
        connection = grpc.connection();
      }
    }
    return connection;
  }
}
