package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.testing.RawHttp2;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bounds of the gRPC port, tried against the real server process. */
class ConnectionLimitsIT extends ProcessTestBase {
  @TempDir Path dataDir;

  @Test
  void nonReadingClient_1500LargeListCalls_memoryStaysBoundedAndHealthAnswers() throws Exception {
    nonReadingClient();
  }

  /** The scenario; {@code extraArgs} (a raised --max-calls-per-connection, say) measure the unbounded case. */
  void nonReadingClient(String... extraArgs) throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    List<String> args = new ArrayList<>(List.of("--store", "memory"));
    args.addAll(List.of(extraArgs));
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), args.toArray(String[]::new));
    TokenAuthorityGrpc.TokenAuthorityBlockingStub adminStub = server.stub(admin);
    // 1,000 keys make a page of ~200 KB; created 50 at a time.
    List<com.google.common.util.concurrent.ListenableFuture<?>> created = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      created.add(server.futureStub(admin).createApiKey(CreateApiKeyRequest.newBuilder().setName("a key with a long enough name " + i)
          .addScopes("sessions:mint").addScopes("sessions:redeem").build()));
      if (created.size() == 50) {
        for (var f : created) {
          f.get(60, TimeUnit.SECONDS);
        }
        created.clear();
      }
    }
    long rssBefore = rssKiB(server.pid());

    // One connection whose calls never ask for their response: HTTP/2 flow control stops the
    // server after the first window of each stream, and whatever it still has to send is held.
    // A 64 KiB window that is never given back: the server can send 64 KiB, then must hold the rest.
    ManagedChannel stalled =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().flowControlWindow(65_535).build();
    Metadata headers = new Metadata();
    headers.put(ServerProcess.AUTHORIZATION, "Bearer " + admin);
    List<ClientCall<ListApiKeysRequest, dev.tokenauthority.v1.ListApiKeysResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      ClientCall<ListApiKeysRequest, dev.tokenauthority.v1.ListApiKeysResponse> call = stalled.newCall(TokenAuthorityGrpc.getListApiKeysMethod(), CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {}, headers);
      call.sendMessage(ListApiKeysRequest.newBuilder().setPageSize(1000).build());
      call.halfClose();
      calls.add(call);
    }
    Thread.sleep(15_000);

    ManagedChannel other = server.newChannel();
    HealthCheckResponse health = HealthGrpc.newBlockingStub(other).withDeadlineAfter(15, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    long rssAfter = rssKiB(server.pid());
    System.out.printf("non-reading client: RSS %d MiB before, %d MiB after 1500 ListApiKeys{page_size:1000}%n",
        rssBefore / 1024, rssAfter / 1024);
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(server.isAlive()).isTrue();
    assertThat(server.output()).doesNotContain("OutOfMemoryError");
    assertThat(rssAfter - rssBefore).as("RSS growth in KiB").isLessThan(150 * 1024);
    calls.forEach(c -> c.cancel("done", null));
    stalled.shutdownNow();
  }

  @Test
  void connections_overTheLimit_areRefusedSayingWhy_andAFreedSlotServesAgain() throws Exception {
    ServerProcess server = start(dataDir, Map.of(), "--store", "memory", "--max-connections", "3");
    List<ManagedChannel> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ManagedChannel c = server.newChannel();
      healthOf(c);
      held.add(c);
    }

    ManagedChannel extra = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> healthOf(extra));
      assertThat(refused).as("a fourth connection is refused").isNotNull();
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      // The client hears GOAWAY ENHANCE_YOUR_CALM "too many connections"; the operator a line.
      assertThat(server.stdout()).contains("refused 1 connection(s): 3 open, the limit (--max-connections)");

      // The refused channel would reconnect by itself and could take the freed slot.
      extra.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      held.get(0).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      Thread.sleep(500);
      ManagedChannel again = server.newChannel();
      assertThat(healthOf(again)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    } finally {
      extra.shutdownNow();
    }
  }

  @Test
  void theHttpPort_takesTheSameFlags_streamsPerConnectionAndConnections() throws Exception {
    ServerProcess server = start(dataDir, Map.of(), "--store", "memory", "--max-calls-per-connection", "7", "--max-connections", "2");
    List<Socket> held = new ArrayList<>();
    try {
      Socket first = new Socket("127.0.0.1", server.httpPort());
      held.add(first);
      assertThat(new RawHttp2(first).serverSettings()).as("SETTINGS_MAX_CONCURRENT_STREAMS of the HTTP port").containsEntry(3, 7L);

      held.add(new Socket("127.0.0.1", server.httpPort()));
      Thread.sleep(300);
      // A third connection is closed without a request being read.
      try (Socket third = new Socket("127.0.0.1", server.httpPort())) {
        third.setSoTimeout(5_000);
        int read;
        try {
          third.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          read = third.getInputStream().read();
        } catch (java.net.SocketException reset) {
          read = -1; // Armeria resets it
        }
        assertThat(read).as("over --max-connections: closed, nothing answered").isEqualTo(-1);
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void rapidReset_overTheLimit_closesTheConnectionWithGoAway_andOthersAreServed() throws Exception {
    ServerProcess server = start(dataDir, Map.of(), "--store", "memory", "--max-resets-per-10s", "50");
    int goAwayCode;
    try (RawHttp2 attacker = new RawHttp2(server.port())) {
      // HEADERS then RST_STREAM, over and over: each stream costs the server work, none costs
      // the client a reply (CVE-2023-44487).
      try {
        for (int i = 0; i < 500; i++) {
          int id = 2 * i + 1;
          attacker.grpcHeaders(id, "grpc.health.v1.Health/Check", Map.of());
          attacker.reset(id);
        }
      } catch (IOException closedUnderUs) {
        // The server may close the connection before the loop ends: that is the point.
      }
      goAwayCode = attacker.awaitGoAway();
    }
    // ENHANCE_YOUR_CALM (0xb), or the connection simply closed once the GOAWAY was lost in a reset.
    assertThat(goAwayCode).as("GOAWAY error code").isIn(0xb, -1);

    ManagedChannel other = server.newChannel();
    assertThat(healthOf(other)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void connection_sendingNothing_isClosedAfterTheHandshakeTimeout() throws Exception {
    ServerProcess server = start(dataDir, Map.of(), "--store", "memory", "--handshake-timeout", "1s");
    try (Socket silent = new Socket("127.0.0.1", server.port())) {
      silent.setSoTimeout(15_000);
      long start = System.nanoTime();
      InputStream in = silent.getInputStream();
      // The server's SETTINGS may come first; then EOF.
      while (in.read() != -1) {
        // drain
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
      assertThat(seconds).as("seconds until the silent connection was closed").isLessThan(10);
    }
  }

  private static HealthCheckResponse.ServingStatus healthOf(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  /** The resident set of a Linux process, from /proc. */
  static long rssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }
}
