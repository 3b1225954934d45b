package dev.tokenauthority.server.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.RawHttp2;
import dev.tokenauthority.server.testing.RawHttp2.Frame;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import dev.tokenauthority.server.testing.TestCertificates;
import dev.tokenauthority.server.tls.ServerTls;
import java.net.Socket;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connection draining after SIGTERM keeps serving the calls it carries, whatever the client
 * sends on streams it opened after the server's last GOAWAY.
 */
class DrainTest {
  private static final String MINT = TokenAuthorityGrpc.getMintSessionMethod().getFullMethodName();
  private static final int NO_ERROR = 0x0;
  private static final int REFUSED_STREAM = 0x7;

  @TempDir Path dir;
  private TokenAuthorityServer server;
  private AutoCloseable eventLoops;
  private ServerTls tls;
  private TestCertificates.Ca ca;
  private String admin;

  private void start(boolean overTls) throws Exception {
    Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), new TestClock());
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    NettyServerBuilder builder;
    if (overTls) {
      ca = TestCertificates.ca("drain test CA");
      ca.server("localhost").write(dir.resolve("server.pem"), dir.resolve("server.key"));
      tls = ServerTls.load(dir.resolve("server.pem"), dir.resolve("server.key"), null);
      builder = tls.serverBuilder(address);
    } else {
      builder = NettyServerBuilder.forAddress(address);
    }
    ConnectionLimits limits = new ConnectionLimits(2000, 100, 200, Duration.ofSeconds(10), Duration.ofMinutes(1),
        Duration.ofSeconds(20), Duration.ofSeconds(10), Duration.ofMinutes(5), 16384);
    eventLoops = limits.apply(builder, !overTls);
    server = new TokenAuthorityServer(builder, authority, Duration.ofHours(1)).start();
    admin = authority.ensureAdminKey(Optional.empty()).orElseThrow();
  }

  private RawHttp2 connect(boolean overTls) throws Exception {
    if (!overTls) {
      return new RawHttp2(server.port());
    }
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.port());
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setApplicationProtocols(new String[] {"h2"});
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return new RawHttp2((Socket) socket);
  }

  /** Stops the server as SIGTERM does, with time to drain, without waiting for it. */
  private CompletableFuture<Void> stopInBackground() {
    return CompletableFuture.runAsync(() -> {
      try {
        server.stop(Duration.ofSeconds(20));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @AfterEach
  void stop() throws Exception {
    server.stop(Duration.ZERO);
    eventLoops.close();
    if (tls != null) {
      tls.close();
    }
  }

  @ParameterizedTest(name = "over TLS: {0}")
  @ValueSource(booleans = {false, true})
  void dataOnAStreamOpenedAfterTheLastGoAway_isRefused_andTheCallsInFlightStillFinish(boolean overTls) throws Exception {
    start(overTls);
    try (RawHttp2 client = connect(overTls)) {
      // A call whose request has not been sent yet: in flight when the server is told to stop.
      client.grpcHeaders(1, MINT, Map.of("authorization", "Bearer " + admin));
      client.roundTrip();
      CompletableFuture<Void> stopped = stopInBackground();

      // The graceful GOAWAY, the PING the client answers, then the GOAWAY naming the last stream.
      Frame last = null;
      while (last == null) {
        Frame frame = client.next();
        if (frame.isPing()) {
          client.pingAck(frame);
        } else if (frame.isGoAway() && frame.lastStreamId() != Integer.MAX_VALUE) {
          last = frame;
        }
      }
      assertThat(last.lastStreamId()).isEqualTo(1);
      assertThat(last.errorCode()).isEqualTo(NO_ERROR);

      // A stream the client opened before it heard that GOAWAY, with its request.
      byte[] request = RawHttp2.grpcFrame(false,
          MintSessionRequest.newBuilder().setExternalUserId("late").build().getSerializedSize(),
          MintSessionRequest.newBuilder().setExternalUserId("late").build().toByteArray());
      client.grpcHeaders(3, MINT, Map.of("authorization", "Bearer " + admin));
      client.data(3, request, true);
      // Then the request of the call in flight.
      byte[] inFlight = MintSessionRequest.newBuilder().setExternalUserId("in-flight").build().toByteArray();
      client.data(1, RawHttp2.grpcFrame(false, inFlight.length, inFlight), true);

      List<Frame> seen = new ArrayList<>();
      Frame frame;
      do {
        frame = client.next();
        seen.add(frame);
        assertThat(frame.isGoAway()).as("a GOAWAY with an error closes the connection: %s", seen).isFalse();
      } while (!(frame.stream() == 1 && frame.endsStream()));

      assertThat(seen).as("the late stream is refused, so the client may retry it")
          .anySatisfy(f -> {
            assertThat(f.stream()).isEqualTo(3);
            assertThat(f.isReset()).isTrue();
            assertThat(f.errorCode()).isEqualTo(REFUSED_STREAM);
          });
      assertThat(seen).as("the call in flight is answered with its token")
          .anySatisfy(f -> {
            assertThat(f.stream()).isEqualTo(1);
            assertThat(f.isData()).isTrue();
            assertThat(f.payload().length).isGreaterThan(100);
          });
    }
  }

  /**
   * The last call of a draining connection ends while the client is still sending (frames of
   * streams it opened too late, as a grpc-java client with calls queued does). Closing a socket
   * with bytes unread makes the kernel reset it, and a reset throws away what the server wrote
   * but had not yet sent: the client would lose the answer of a call the server ran. The server
   * closes its side, reads until the client has seen everything, and only then closes.
   */
  @ParameterizedTest(name = "over TLS: {0}")
  @ValueSource(booleans = {false, true})
  void aClientStillSendingWhenTheLastCallEnds_readsItsAnswer_thenAnOrderlyClose_notAReset(boolean overTls)
      throws Exception {
    start(overTls);
    try (RawHttp2 client = connect(overTls)) {
      client.grpcHeaders(1, MINT, Map.of("authorization", "Bearer " + admin));
      client.roundTrip();
      CompletableFuture<Void> stopped = stopInBackground();
      while (true) {
        Frame frame = client.next();
        if (frame.isPing()) {
          client.pingAck(frame);
        } else if (frame.isGoAway() && frame.lastStreamId() != Integer.MAX_VALUE) {
          break;
        }
      }

      // The request of the call in flight, then frames of a stream opened too late, without pause.
      AtomicBoolean readToTheEnd = new AtomicBoolean();
      byte[] inFlight = MintSessionRequest.newBuilder().setExternalUserId("in-flight").build().toByteArray();
      Thread sender = new Thread(() -> {
        try {
          client.data(1, RawHttp2.grpcFrame(false, inFlight.length, inFlight), true);
          byte[] late = new byte[16_384];
          while (!readToTheEnd.get()) {
            client.data(5, late, false);
          }
        } catch (IOException e) {
          // The server stopped reading: what the reader saw says whether that was orderly.
        }
      }, "drain-test-sender");
      sender.start();

      List<Frame> seen = new ArrayList<>();
      try {
        while (true) {
          seen.add(client.next());
        }
      } catch (EOFException orderlyClose) {
        readToTheEnd.set(true);
      } catch (SocketException reset) {
        readToTheEnd.set(true);
        throw new AssertionError("the connection was reset, not closed, after " + seen, reset);
      } finally {
        sender.join(10_000);
      }
      assertThat(seen).as("the call in flight is answered with its token")
          .anySatisfy(f -> {
            assertThat(f.stream()).isEqualTo(1);
            assertThat(f.isData()).isTrue();
            assertThat(f.payload().length).isGreaterThan(100);
          });
      assertThat(seen).as("and its trailers").anySatisfy(f -> {
        assertThat(f.stream()).isEqualTo(1);
        assertThat(f.endsStream()).isTrue();
      });
      client.close();
      stopped.get(10, TimeUnit.SECONDS);
    }
  }
}
