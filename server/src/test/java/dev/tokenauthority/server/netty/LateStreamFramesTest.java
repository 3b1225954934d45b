package dev.tokenauthority.server.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Connection;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The filter's bookkeeping, byte for byte: whatever the reads' boundaries, it passes every byte
 * before a GOAWAY and, after one, exactly the frames of streams that were not opened too late.
 */
class LateStreamFramesTest {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @Test
  void beforeAnyGoAway_everyByteGoesOn_howeverTheReadsAreCut() {
    byte[] input = concat(PREFACE, frame(4, 0, 0, 0), frame(1, 4, 1, 30), frame(0, 1, 1, 500), frame(0, 1, 3, 0),
        frame(8, 0, 3, 4), frame(3, 0, 5, 4), frame(0, 0, 7, 20_000));
    Random random = new Random(7);
    for (int trial = 0; trial < 200; trial++) {
      try (Pipe pipe = new Pipe()) {
        feed(pipe, input, random);
        assertThat(pipe.passed()).isEqualTo(input);
      }
    }
  }

  @Test
  void afterTheLastGoAway_framesOfStreamsNeverOpenedAreDropped_andTheRestGoOnWhole() {
    byte[] before = concat(PREFACE, frame(4, 0, 0, 0), frame(1, 4, 1, 30));
    byte[] keptAfter = concat(frame(0, 1, 1, 500), frame(6, 0, 0, 8), frame(1, 4, 9, 12), frame(8, 0, 1, 4),
        frame(8, 0, 0, 4));
    Random random = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      try (Pipe pipe = new Pipe()) {
        feed(pipe, before, random);
        pipe.open(1);
        pipe.goAwaySent(1);
        // Interleave the late frames (DATA, WINDOW_UPDATE, RST_STREAM of streams 3, 5, 7) with kept ones.
        byte[] after = concat(frame(0, 1, 3, 40), keptAfter, frame(8, 0, 5, 4), frame(3, 0, 7, 4),
            frame(0, 0, 3, 17_000));
        feed(pipe, after, random);
        assertThat(pipe.passed()).isEqualTo(concat(before, keptAfter));
      }
    }
  }

  @Test
  void aHeaderCutByTheGoAway_goesOnWhole() {
    try (Pipe pipe = new Pipe()) {
      byte[] late = frame(0, 1, 3, 10);
      byte[] start = concat(PREFACE, java.util.Arrays.copyOf(late, 4));
      pipe.channel.writeInbound(Unpooled.wrappedBuffer(start));
      pipe.goAwaySent(1);
      pipe.channel.writeInbound(Unpooled.wrappedBuffer(java.util.Arrays.copyOfRange(late, 4, late.length)));
      // Its first bytes already went on, so the frame must go on too, or the stream would be torn.
      assertThat(pipe.passed()).isEqualTo(concat(PREFACE, late));
    }
  }

  /**
   * The filter, a sink recording what it passes, and an HTTP/2 handler owning the connection state.
   * Closing it releases what the handler wrote (its SETTINGS), which nothing here reads.
   */
  private static final class Pipe implements AutoCloseable {
    final ByteArrayOutputStream passed = new ByteArrayOutputStream();
    final EmbeddedChannel channel;
    final Http2Connection connection;

    Pipe() {
      Http2ConnectionHandler http2 = new Http2ConnectionHandlerBuilder().server(true)
          .frameListener(new Http2FrameAdapter()).build();
      channel = new EmbeddedChannel(new LateStreamFrames(), new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          ByteBuf buf = (ByteBuf) msg;
          byte[] bytes = new byte[buf.readableBytes()];
          buf.readBytes(bytes);
          buf.release();
          passed.writeBytes(bytes);
        }
      }, http2);
      connection = http2.connection();
    }

    void open(int streamId) {
      try {
        connection.remote().createStream(streamId, false);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    void goAwaySent(int lastStreamId) {
      try {
        connection.goAwaySent(lastStreamId, 0, Unpooled.EMPTY_BUFFER);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    byte[] passed() {
      return passed.toByteArray();
    }

    @Override
    public void close() {
      channel.finishAndReleaseAll();
    }
  }

  private static void feed(Pipe pipe, byte[] bytes, Random random) {
    int at = 0;
    while (at < bytes.length) {
      int n = Math.min(bytes.length - at, 1 + random.nextInt(random.nextBoolean() ? 12 : 4000));
      pipe.channel.writeInbound(Unpooled.copiedBuffer(bytes, at, n));
      at += n;
    }
  }

  private static byte[] frame(int type, int flags, int stream, int length) {
    byte[] frame = new byte[9 + length];
    frame[0] = (byte) (length >>> 16);
    frame[1] = (byte) (length >>> 8);
    frame[2] = (byte) length;
    frame[3] = (byte) type;
    frame[4] = (byte) flags;
    frame[5] = (byte) (stream >>> 24);
    frame[6] = (byte) (stream >>> 16);
    frame[7] = (byte) (stream >>> 8);
    frame[8] = (byte) stream;
    for (int i = 9; i < frame.length; i++) {
      frame[i] = (byte) (stream * 31 + i);
    }
    return frame;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
