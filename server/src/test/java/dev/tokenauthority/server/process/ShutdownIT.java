package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.ListApiKeysResponse;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import dev.tokenauthority.v1.RevokeRequest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting and stopping the real process: SIGTERM drains, flags are checked, the admin key banner. */
class ShutdownIT extends ProcessTestBase {
  private static final Duration GRACE = Duration.ofSeconds(10);
  private static final Pattern ADMIN_SECRET = Pattern.compile("sk_[A-Za-z0-9]{20,}");

  @TempDir Path dataDir;

  private Map<String, String> adminEnv(String adminSecret) {
    return Map.of("TOKEN_AUTHORITY_ADMIN_KEY", adminSecret);
  }

  @Test
  void sigterm_with200MintsInFlight_finishesEveryOne_andExitsZero() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    Path auditFile = dataDir.resolve("audit.jsonl");
    // A stream limit above the burst: every call is at the server when the signal comes.
    ServerProcess server = start(dataDir, adminEnv(admin), "--shutdown-grace", GRACE.toSeconds() + "s",
        "--max-calls-per-connection", "256", "--audit-log", auditFile.toString());

    Burst burst = mintBurstThenSigterm(server, admin, 200);

    assertThat(burst.outcomes()).as("outcomes %s", burst.outcomes()).containsOnlyKeys("OK");
    assertThat(burst.minted()).hasSize(200);
    String audit = Files.readString(auditFile);
    for (String user : burst.minted()) {
      assertThat(audit).contains("\"external_user_id\":\"" + user + "\"");
    }
  }

  /**
   * With the default limit of 100 calls per connection the client queues the other 100 itself.
   * Those it had not started when the GOAWAY came were never run: the client may report them as
   * UNAVAILABLE or, in a race inside grpc-java's client transport, as INTERNAL "http2 exception";
   * either way the server did not mint them, so a retry is safe.
   */
  @Test
  void sigterm_withCallsQueuedBeyondTheStreamLimit_runsNoneThatFailed() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    Path auditFile = dataDir.resolve("audit.jsonl");
    ServerProcess server = start(dataDir, adminEnv(admin), "--shutdown-grace", GRACE.toSeconds() + "s",
        "--audit-log", auditFile.toString());

    Burst burst = mintBurstThenSigterm(server, admin, 200);

    assertThat(burst.outcomes().keySet()).as("outcomes %s", burst.outcomes()).isSubsetOf("OK", "UNAVAILABLE", "INTERNAL");
    assertThat(burst.minted()).hasSizeGreaterThanOrEqualTo(100);
    assertThat(burst.failures()).allSatisfy(status -> {
      if (status.getCode() == Status.Code.INTERNAL) {
        // Made by the client's transport, not sent by the server.
        assertThat(status.getDescription()).isEqualTo("http2 exception");
      }
    });
    String audit = Files.readString(auditFile);
    for (String user : burst.minted()) {
      assertThat(audit).contains("\"external_user_id\":\"" + user + "\"");
    }
    for (int i = 0; i < burst.notMinted().size(); i++) {
      String user = burst.notMinted().get(i);
      assertThat(audit).as("%s failed at the client with %s, yet was run", user, burst.failures().get(i))
          .doesNotContain("\"external_user_id\":\"" + user + "\"");
    }
  }

  /** What a burst of mints saw when the server was stopped under it. */
  private record Burst(Map<String, Integer> outcomes, List<String> minted, List<String> notMinted, List<Status> failures) {}

  /**
   * Sends {@code count} mints at once on one connection, SIGTERMs the server as soon as the
   * first answers, and checks that the server exits 0, logs no error and closes its port.
   */
  private Burst mintBurstThenSigterm(ServerProcess server, String admin, int count) throws Exception {
    int port = server.port();
    // Warm up the connection and the server's code paths so the burst is really concurrent.
    for (int i = 0; i < 20; i++) {
      mint(server, admin, "warm-up-" + i, 1);
    }

    TokenAuthorityGrpc.TokenAuthorityFutureStub stub = server.futureStub(admin);
    List<ListenableFuture<MintSessionResponse>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      calls.add(stub.mintSession(MintSessionRequest.newBuilder().setExternalUserId("in-flight-" + i).build()));
    }
    // SIGTERM as soon as the first answer is back, while the others are still running.
    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (calls.stream().noneMatch(ListenableFuture::isDone) && System.nanoTime() < waitUntil) {
      Thread.onSpinWait();
    }
    long doneAtSignal = calls.stream().filter(ListenableFuture::isDone).count();
    long signalled = System.nanoTime();
    server.sigterm();

    int exit = server.waitFor(GRACE);
    Duration stopping = Duration.ofNanos(System.nanoTime() - signalled);
    assertThat(exit).as("exit code after SIGTERM\n%s", server.describe()).isZero();

    Map<String, Integer> outcomes = new TreeMap<>();
    List<String> minted = new ArrayList<>();
    List<String> notMinted = new ArrayList<>();
    List<Status> failures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String outcome;
      try {
        MintSessionResponse response = calls.get(i).get(10, TimeUnit.SECONDS);
        secret(response.getToken());
        assertThat(response.getToken()).isNotEmpty();
        outcome = "OK";
        minted.add("in-flight-" + i);
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(StatusRuntimeException.class);
        Status status = ((StatusRuntimeException) e.getCause()).getStatus();
        outcome = status.getCode().name();
        notMinted.add("in-flight-" + i);
        failures.add(status);
      }
      outcomes.merge(outcome, 1, Integer::sum);
    }
    System.out.printf("SIGTERM with %d of %d calls answered; outcomes %s; exited in %d ms%n",
        doneAtSignal, count, outcomes, stopping.toMillis());
    assertThat(server.output()).doesNotContain(" ERROR ").contains("stopped");

    // Nothing listens on the port any more.
    assertThatThrownBy(() -> {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
      }
    }).isInstanceOf(ConnectException.class);
    return new Burst(outcomes, minted, notMinted, failures);
  }

  @Test
  void sigterm_withACallHalfSent_turnsHealthNotServing_refusesNewCalls_finishesTheCall_andFlushesTheAuditLog()
      throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    Path auditFile = dataDir.resolve("audit.jsonl");
    ServerProcess server = start(dataDir, adminEnv(admin),
        "--shutdown-grace", GRACE.toSeconds() + "s", "--audit-log", auditFile.toString(), "--metrics-port", "0");
    int port = server.port();
    ManagedChannel channel = server.channel();

    // A health watcher, as a load balancer keeps one.
    BlockingQueue<ServingStatus> watched = new LinkedBlockingQueue<>();
    CompletableFuture<Status> watchEnded = new CompletableFuture<>();
    Context.CancellableContext watch = Context.current().withCancellation();
    watch.run(() -> HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
      @Override
      public void onNext(HealthCheckResponse value) {
        watched.add(value.getStatus());
      }

      @Override
      public void onError(Throwable t) {
        watchEnded.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        watchEnded.complete(Status.OK);
      }
    }));
    assertThat(watched.poll(15, TimeUnit.SECONDS)).isEqualTo(ServingStatus.SERVING);

    // A MintSession whose headers are at the server but whose request is not sent yet: in flight
    // for as long as this test wants.
    Metadata headers = new Metadata();
    headers.put(ServerProcess.AUTHORIZATION, "Bearer " + admin);
    ClientCall<MintSessionRequest, MintSessionResponse> inFlight =
        channel.newCall(TokenAuthorityGrpc.getMintSessionMethod(), CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
    CompletableFuture<MintSessionResponse> answer = new CompletableFuture<>();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    inFlight.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(MintSessionResponse message) {
        answer.complete(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, headers);
    inFlight.request(1);
    // Streams of one connection reach the server in order: once this answers, so has the call started.
    assertThat(server.health().check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);

    server.sigterm();

    assertThat(watched.poll(15, TimeUnit.SECONDS)).as("health after SIGTERM").isEqualTo(ServingStatus.NOT_SERVING);
    // The server ends the watch itself, so that watchers do not hold the drain.
    assertThat(watchEnded.get(15, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    watch.cancel(null);
    // No new connection is accepted while the call drains.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    boolean refused = false;
    while (!refused && System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
        Thread.sleep(50);
      } catch (ConnectException e) {
        refused = true;
      }
    }
    assertThat(refused).as("the port refuses new connections after SIGTERM").isTrue();
    assertThat(server.isAlive()).as("the server waits for the call in flight").isTrue();

    inFlight.sendMessage(MintSessionRequest.newBuilder().setExternalUserId("in-flight").build());
    inFlight.halfClose();

    assertThat(closed.get(GRACE.toSeconds(), TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    MintSessionResponse minted = answer.get(1, TimeUnit.SECONDS);
    secret(minted.getToken());
    assertThat(server.waitFor(GRACE)).as("exit code after SIGTERM").isZero();
    assertThat(server.stdout()).contains("stopped").doesNotContain("were cancelled");
    // The store was closed in order: a new server opens it and finds the session minted during the drain.
    assertThat(Files.readString(auditFile)).contains("\"session_id\":\"" + minted.getSessionId() + "\"");
    ServerProcess again = start(dataDir, adminEnv(admin));
    assertFails(Status.Code.NOT_FOUND, "NOT_FOUND", () -> again.stub(admin)
        .revoke(RevokeRequest.newBuilder().setSessionId("ses_000000000000000000000000").build()));
    assertThat(again.stub(admin).revoke(RevokeRequest.newBuilder().setSessionId(minted.getSessionId()).build())
        .hasRevokeTime()).isTrue();
  }

  @Test
  void memoryStore_starts_servesHealthAndCalls_andWritesNoFile() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, adminEnv(admin), "--store", "memory");

    assertThat(server.health().check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(server.health()
            .check(HealthCheckRequest.newBuilder().setService(TokenAuthorityGrpc.SERVICE_NAME).build())
            .getStatus())
        .isEqualTo(ServingStatus.SERVING);
    MintSessionResponse minted = mint(server, admin, "memory-user", 1);
    RedeemResponse redeemed = redeem(server, admin, minted.getToken());
    assertThat(redeemed.getSessionId()).isEqualTo(minted.getSessionId());
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(server, admin, minted.getToken()));

    server.sigterm();
    assertThat(server.waitFor(GRACE)).isZero();
    try (var files = Files.list(dataDir)) {
      assertThat(files.map(p -> p.getFileName().toString())).doesNotContain("token-authority.db");
    }
  }

  @Test
  void invalidStore_exitsNonZeroQuickly_withOneLineNamingTheFlag_andNoStackTrace() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    long started = System.nanoTime();
    ServerProcess server = launch(dataDir, adminEnv(admin), "--store", "bogus");

    // Quickly: no store is opened and nothing listens. (Generous bounds for a loaded CI machine.)
    int exit = server.waitFor(Duration.ofSeconds(20));
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(exit).isNotZero();
    assertThat(took).isLessThan(Duration.ofSeconds(15));
    List<String> lines = server.output().lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as(server.describe()).hasSize(1);
    assertThat(lines.get(0)).contains("--store").contains("bogus");
    assertThat(server.output()).doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(dataDir.resolve("token-authority.db")).doesNotExist();
  }

  @Test
  void port0_printsTheActualPort_andServesOnIt() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, adminEnv(admin));

    int port = server.port();
    assertThat(port).isBetween(1, 65535);
    assertThat(server.stdout()).containsPattern("listening on port " + port + "\\b");
    assertThat(server.health().check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
    }
  }

  @Test
  void firstStartWithoutAdminKey_printsOneWorkingKeyOnce_andASecondStartPrintsNone() throws Exception {
    ServerProcess first = start(dataDir, Map.of());
    Matcher m = ADMIN_SECRET.matcher(first.stdout());
    assertThat(m.find()).as("an sk_ admin key on stdout\n%s", first.describe()).isTrue();
    String generated = m.group();
    assertThat(m.find()).as("a second sk_ key on stdout").isFalse();
    assertThat(first.stderr()).doesNotContain("sk_");
    // Printed once: in the banner, not also in some log line.
    assertThat(first.stdout().split(Pattern.quote(generated), -1)).hasSize(2);

    ListApiKeysResponse keys = first.stub(generated).listApiKeys(ListApiKeysRequest.getDefaultInstance());
    assertThat(keys.getApiKeysList()).anySatisfy(key -> {
      assertThat(key.getScopesList()).contains("admin");
      assertThat(key.getHint()).startsWith("sk_").endsWith(generated.substring(generated.length() - 4));
    });
    // Everything that comes next must keep it to itself.
    String appKey = createKey(first, generated, "after banner", "sessions:mint", "sessions:redeem");
    mint(first, appKey, "banner-user", 1);

    first.sigterm();
    assertThat(first.waitFor(GRACE)).isZero();

    ServerProcess second = start(dataDir, Map.of());
    assertThat(second.output()).doesNotContain(generated);
    assertThat(second.stdout()).doesNotContainPattern("sk_[A-Za-z0-9]");
    assertThat(second.stderr()).doesNotContain("sk_");
    assertThat(second.stub(generated).listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysCount())
        .isGreaterThanOrEqualTo(2);
  }
}
