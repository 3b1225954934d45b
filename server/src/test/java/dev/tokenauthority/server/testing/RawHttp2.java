package dev.tokenauthority.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A plaintext HTTP/2 connection that writes frames byte by byte, to send what no gRPC client
 * would (a gRPC frame cut short, a length prefix over the limit). It reads only frame headers:
 * enough to wait for the server to end a stream.
 */
public final class RawHttp2 implements AutoCloseable {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  /** HTTP/2 error code CANCEL, what a client sends to abandon a stream. */
  private static final int CANCEL = 0x8;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  public RawHttp2(int port) throws IOException {
    this(new Socket(InetAddress.getLoopbackAddress(), port));
  }

  /** Speaks HTTP/2 over {@code socket}: a plain one, or a TLS one that negotiated "h2". */
  public RawHttp2(Socket socket) throws IOException {
    this.socket = socket;
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
    out.write(PREFACE);
    frame(SETTINGS, 0, 0, new byte[0]);
  }

  /** Opens stream {@code id} as a gRPC call of {@code fullMethodName} with these extra headers. */
  public void grpcHeaders(int id, String fullMethodName, Map<String, String> extra) throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":method", "POST");
    headers.put(":scheme", "http");
    headers.put(":path", "/" + fullMethodName);
    headers.put(":authority", "localhost");
    headers.put("content-type", "application/grpc");
    headers.put("te", "trailers");
    headers.putAll(extra);
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    for (Map.Entry<String, String> h : headers.entrySet()) {
      block.write(0x00); // literal header field without indexing, new name
      string(block, h.getKey());
      string(block, h.getValue());
    }
    frame(HEADERS, END_HEADERS, id, block.toByteArray());
  }

  /** Sends {@code payload} as one DATA frame on stream {@code id}, ending the stream when asked. */
  public void data(int id, byte[] payload, boolean endStream) throws IOException {
    frame(DATA, endStream ? END_STREAM : 0, id, payload);
  }

  /** Resets stream {@code id} with CANCEL, as a client abandoning a call does. */
  public void reset(int id) throws IOException {
    frame(RST_STREAM, 0, id, new byte[] {0, 0, 0, CANCEL});
  }

  /**
   * Reads frames until the server sends GOAWAY; returns its error code, or -1 when the
   * connection ended without one.
   */
  public int awaitGoAway() throws IOException {
    try {
      while (true) {
        Frame frame = next();
        if (frame.isGoAway()) {
          return frame.errorCode();
        }
      }
    } catch (java.io.EOFException | java.net.SocketException e) {
      return -1;
    }
  }

  /** One frame as read from the server. */
  public record Frame(int type, int flags, int stream, byte[] payload) {
    public boolean isGoAway() {
      return type == GOAWAY;
    }

    public boolean isPing() {
      return type == PING && (flags & 0x1) == 0;
    }

    public boolean endsStream() {
      return (flags & END_STREAM) != 0 && (type == DATA || type == HEADERS);
    }

    public boolean isData() {
      return type == DATA;
    }

    public boolean isReset() {
      return type == RST_STREAM;
    }

    /** The last stream id of a GOAWAY. */
    public int lastStreamId() {
      return int32(0) & 0x7fffffff;
    }

    /** The error code of a GOAWAY or RST_STREAM. */
    public int errorCode() {
      return int32(type == GOAWAY ? 4 : 0);
    }

    private int int32(int at) {
      return ((payload[at] & 0xff) << 24) | ((payload[at + 1] & 0xff) << 16) | ((payload[at + 2] & 0xff) << 8)
          | (payload[at + 3] & 0xff);
    }
  }

  /** The server's SETTINGS (its first non-ACK one), as setting id -> value; frames before it are skipped. */
  public Map<Integer, Long> serverSettings() throws IOException {
    while (true) {
      Frame frame = next();
      if (frame.type() == SETTINGS && (frame.flags() & 0x1) == 0) {
        Map<Integer, Long> settings = new LinkedHashMap<>();
        for (int at = 0; at + 6 <= frame.payload().length; at += 6) {
          int id = ((frame.payload()[at] & 0xff) << 8) | (frame.payload()[at + 1] & 0xff);
          settings.put(id, frame.int32(at + 2) & 0xFFFFFFFFL);
        }
        return settings;
      }
    }
  }

  /** The next frame from the server; throws EOFException when the connection has ended. */
  public Frame next() throws IOException {
    int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
    int type = in.readUnsignedByte();
    int flags = in.readUnsignedByte();
    int stream = in.readInt() & 0x7fffffff;
    byte[] payload = new byte[length];
    in.readFully(payload);
    return new Frame(type, flags, stream, payload);
  }

  /**
   * Sends a PING and reads frames until the server acknowledges it: the server has then read
   * every frame sent before. Returns the frames read meanwhile.
   */
  public java.util.List<Frame> roundTrip() throws IOException {
    byte[] payload = {1, 2, 3, 4, 5, 6, 7, 8};
    frame(PING, 0, 0, payload);
    java.util.List<Frame> seen = new java.util.ArrayList<>();
    while (true) {
      Frame frame = next();
      if (frame.type() == PING && (frame.flags() & 0x1) != 0 && java.util.Arrays.equals(frame.payload(), payload)) {
        return seen;
      }
      seen.add(frame);
    }
  }

  /** Answers a server's PING, as every HTTP/2 client must. */
  public void pingAck(Frame ping) throws IOException {
    frame(PING, 0x1, 0, ping.payload());
  }

  /** A gRPC length-prefixed message header claiming {@code length} bytes, then {@code body}. */
  public static byte[] grpcFrame(boolean compressed, int length, byte[] body) {
    byte[] frame = new byte[5 + body.length];
    frame[0] = (byte) (compressed ? 1 : 0);
    frame[1] = (byte) (length >>> 24);
    frame[2] = (byte) (length >>> 16);
    frame[3] = (byte) (length >>> 8);
    frame[4] = (byte) length;
    System.arraycopy(body, 0, frame, 5, body.length);
    return frame;
  }

  /**
   * Reads frames until the server ends stream {@code id} (a HEADERS frame with END_STREAM, the
   * trailers, or RST_STREAM); returns which: {@code "trailers"} or {@code "reset"}.
   */
  public String awaitEnd(int id) throws IOException {
    while (true) {
      Frame frame = next();
      if (frame.stream() == id && frame.isReset()) {
        return "reset";
      }
      if (frame.stream() == id && frame.type() == HEADERS && (frame.flags() & END_STREAM) != 0) {
        return "trailers";
      }
    }
  }

  private void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    byte[] header = {
      (byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
      (byte) type, (byte) flags,
      (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream
    };
    out.write(header);
    out.write(payload);
    out.flush();
  }

  /** An HPACK string literal, not Huffman-coded, with its 7-bit prefix integer length. */
  private static void string(ByteArrayOutputStream block, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    int n = bytes.length;
    if (n < 127) {
      block.write(n);
    } else {
      block.write(127);
      n -= 127;
      while (n >= 128) {
        block.write((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      block.write(n);
    }
    block.write(bytes, 0, bytes.length);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
