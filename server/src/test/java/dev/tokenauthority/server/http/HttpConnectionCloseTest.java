package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.InProcessAuthority;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A connection the HTTP port closes while the client is still sending: the answers it wrote
 * before arrive whole, then an orderly end, not a reset that throws the unsent ones away.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HttpConnectionCloseTest {
  private static final byte[] GET = "GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MALFORMED = "GET /a b c HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private InProcessAuthority authority;

  @BeforeEach
  void start() {
    authority = InProcessAuthority.builder()
        .directExecutor(false)
        .http(HttpGateway.Settings.plain(0).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10)))
        .start();
  }

  @AfterEach
  void stop() throws InterruptedException {
    authority.close();
  }

  @Test
  void pipelinedRequestsThenAMalformedOne_allAnswersArrive_thenTheConnectionEnds_notAReset() throws Exception {
    try (Socket client = new Socket()) {
      // A client that reads slowly: the answers wait in the server's send queue.
      client.setReceiveBufferSize(1024);
      client.setSoTimeout(10_000);
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), authority.httpPort()));
      OutputStream out = client.getOutputStream();
      ByteArrayOutputStream requests = new ByteArrayOutputStream();
      for (int i = 0; i < 4; i++) {
        requests.write(GET);
      }
      requests.write(MALFORMED);
      out.write(requests.toByteArray());
      out.flush();
      // And it goes on sending for a while, as an uploading client does.
      AtomicBoolean sending = new AtomicBoolean(true);
      Thread sender = new Thread(() -> {
        byte[] filler = new byte[4096];
        long until = System.nanoTime() + Duration.ofMillis(500).toNanos();
        try {
          while (System.nanoTime() < until && sending.get()) {
            out.write(filler);
            out.flush();
          }
        } catch (IOException e) {
          // The server stopped reading: what the reader gets says whether that was orderly.
        }
      }, "http-close-test-sender");
      sender.start();
      Thread.sleep(300);

      ByteArrayOutputStream received = new ByteArrayOutputStream();
      InputStream in = client.getInputStream();
      byte[] buffer = new byte[1024];
      try {
        int n;
        while ((n = in.read(buffer)) != -1) {
          received.write(buffer, 0, n);
        }
      } catch (SocketException reset) {
        throw new AssertionError("reset after " + received.size() + " bytes: " + statusLines(received), reset);
      } finally {
        sending.set(false);
        sender.join(5_000);
      }
      assertThat(statusLines(received)).containsExactly("200", "200", "200", "200", "400");
    }
  }

  private static java.util.List<String> statusLines(ByteArrayOutputStream received) {
    Matcher m = Pattern.compile("HTTP/1\\.1 (\\d{3}) ").matcher(received.toString(StandardCharsets.ISO_8859_1));
    java.util.List<String> codes = new java.util.ArrayList<>();
    while (m.find()) {
      codes.add(m.group(1));
    }
    return codes;
  }
}
