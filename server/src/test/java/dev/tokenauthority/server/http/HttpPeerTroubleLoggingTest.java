package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tokenauthority.server.logging.ServerLogging;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.ServerLoggingSwitch;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What HTTP clients do wrong on the HTTP port (bad HTTP/2 frames and header blocks, an unknown
 * {@code Expect}, a stream reset before its body) is answered or refused, and never logged by the
 * server's logging set-up ({@link ServerLogging}) at WARN or above: a peer's mistakes are not the
 * server's faults, and without an API key anyone could fill the log with them. (Not here: HEADERS
 * without {@code :path}, which makes Armeria 1.36 throw a NullPointerException; that stays a
 * WARN, as a defect of the library, not a protocol error.)
 */
class HttpPeerTroubleLoggingTest {
  private static final LoggerContext CONTEXT = ServerLoggingSwitch.context();

  @BeforeAll
  static void configureAsTheServer() {
    ServerLoggingSwitch.toTheServers();
  }

  @AfterAll
  static void configureAsTheOtherTests() throws Exception {
    ServerLoggingSwitch.backToTheTests();
  }

  @Test
  void badFramesUnknownExpectAndResetStreams_areNotLoggedAsServerTrouble() throws Exception {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    try (InProcessAuthority authority = InProcessAuthority.builder().directExecutor(false).http(HttpGateway.Settings.plain(0)).start()) {
      int port = authority.httpPort();
      logged.start();
      CONTEXT.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logged);

      try (RawH2 c = new RawH2(port)) {
        c.frame(0, 1, 3, "{}".getBytes(StandardCharsets.US_ASCII)); // DATA on a stream never opened
        c.readUntilClosed();
      }
      try (RawH2 c = new RawH2(port)) {
        c.headers(2, true, request("/healthz")); // a client may not open an even stream
        c.readUntilClosed();
      }
      try (RawH2 c = new RawH2(port)) {
        c.frame(1, 5, 1, new byte[] {(byte) 0xFF, (byte) 0x7F}); // a header block naming no table entry
        c.readUntilClosed();
      }
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        s.setSoTimeout(5_000);
        s.getOutputStream().write(("POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\nExpect: bogus\r\nContent-Length: 2\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
        assertThat(status).isEqualTo("HTTP/1.1 417");
      }
      try (RawH2 c = new RawH2(port)) {
        // Headers, then a reset (CANCEL) before the body: the request fails inside Armeria.
        Map<String, String> post = request("/v1/sessions");
        post.put(":method", "POST");
        c.headers(1, false, post);
        c.frame(3, 0, 1, new byte[] {0, 0, 0, 8});
        c.frame(6, 0, 0, new byte[8]); // PING: its answer says the reset was read
        c.readFrameOfType(6);
      }
      // Armeria's reporter of unlogged exceptions, when on, speaks every 10 s.
      Thread.sleep(11_000);
    } finally {
      CONTEXT.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logged);
    }
    assertThat(logged.list).as("lines at WARN or above")
        .noneMatch(ev -> ev.getLevel().isGreaterOrEqual(Level.WARN));
  }

  @Test
  void aRequestLineThatDoesNotParse_isAnswered400_andNotLoggedAtWarn() throws Exception {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    try (InProcessAuthority authority = InProcessAuthority.builder().directExecutor(false).http(HttpGateway.Settings.plain(0)).start()) {
      logged.start();
      CONTEXT.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logged);
      for (String request : java.util.List.of("BLAH\r\n\r\n", "GET / HTTP/1.1\r\nno colon here\r\n\r\n")) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), authority.httpPort())) {
          s.setSoTimeout(5_000);
          s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
          String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
          assertThat(reply).as(request).startsWith("HTTP/1.1 400").contains("\"code\":\"INVALID_REQUEST\"");
        }
      }
    } finally {
      CONTEXT.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logged);
    }
    assertThat(logged.list).as("lines at WARN or above").noneMatch(ev -> ev.getLevel().isGreaterOrEqual(Level.WARN));
  }

  @Test
  void h2c_boundsTheStreamsInFlightPerConnection_asTheGrpcPortDoes() throws Exception {
    // Unbounded, one client that never reads could make the server hold a response per stream
    // until its direct memory ran out, for both ports.
    try (InProcessAuthority authority = InProcessAuthority.builder().http(HttpGateway.Settings.plain(0)).start();
        dev.tokenauthority.server.testing.RawHttp2 c = new dev.tokenauthority.server.testing.RawHttp2(authority.httpPort())) {
      assertThat(c.serverSettings()).as("SETTINGS_MAX_CONCURRENT_STREAMS").containsEntry(3, 100L);
    }
  }

  private static Map<String, String> request(String path) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(":method", "GET");
    h.put(":scheme", "http");
    h.put(":path", path);
    h.put(":authority", "localhost");
    return h;
  }

  /** An HTTP/2 connection written frame by frame: prior knowledge, no TLS, header names as literals. */
  private static final class RawH2 implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;

    RawH2(int port) throws Exception {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout(5_000);
      out = socket.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      frame(4, 0, 0, new byte[0]); // SETTINGS
    }

    void frame(int type, int flags, int stream, byte[] payload) throws Exception {
      out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
          (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
      out.write(payload);
      out.flush();
    }

    /** One HEADERS frame, END_HEADERS set; each field a literal without indexing (names and values under 127 bytes). */
    void headers(int stream, boolean endStream, Map<String, String> fields) throws Exception {
      ByteArrayOutputStream block = new ByteArrayOutputStream();
      for (Map.Entry<String, String> f : fields.entrySet()) {
        block.write(0);
        for (String s : new String[] {f.getKey(), f.getValue()}) {
          byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
          block.write(bytes.length);
          block.writeBytes(bytes);
        }
      }
      frame(1, 0x4 | (endStream ? 1 : 0), stream, block.toByteArray());
    }

    /** Reads frames until one of {@code type} arrives. */
    void readFrameOfType(int type) throws java.io.IOException {
      java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
      while (true) {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int frameType = in.readUnsignedByte();
        in.skipNBytes(5 + length);
        if (frameType == type) {
          return;
        }
      }
    }

    /** Reads what the server sends (a GOAWAY, then the close) until it closes or 5 s pass. */
    void readUntilClosed() {
      try {
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        while (in.read(buffer) >= 0) {
          // the server's frames are not inspected: only what it logs is
        }
      } catch (java.io.IOException e) {
        // reset or timed out: the server has had the frame
      }
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }
}
