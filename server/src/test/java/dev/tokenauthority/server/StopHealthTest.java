package dev.tokenauthority.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.http.HttpGateway;
import dev.tokenauthority.server.http.HttpTestClient;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Once a stop begins, health stays NOT_SERVING for the whole drain: a store probe that was
 * running when it began, and answers afterwards, does not turn it back to SERVING (a load
 * balancer would send the draining replica new calls, each refused 503).
 */
class StopHealthTest {
  private final CountDownLatch probing = new CountDownLatch(1);
  private final CountDownLatch answer = new CountDownLatch(1);
  private volatile boolean holdProbes;

  @Test
  void aStoreProbeAnsweringDuringTheDrain_doesNotReportServingAgain() throws Exception {
    MemoryStore real = new MemoryStore();
    Store store = (Store) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Store.class}, (p, m, a) -> {
      if (m.getName().equals("isServing") && holdProbes) {
        probing.countDown();
        // As a JDBC read does: the stop's interrupt does not end the wait.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (answer.getCount() > 0 && System.nanoTime() < until) {
          try {
            answer.await(10, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            // ignored, as a socket read ignores it
          }
        }
        return true;
      }
      try {
        return m.invoke(real, a);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    });
    Authority authority = new Authority(store, Authority.Settings.defaults(), Clock.systemUTC());
    String admin = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    TokenAuthorityServer server = new TokenAuthorityServer(NettyServerBuilder.forAddress(new InetSocketAddress(0)), authority,
        Duration.ofHours(1), null, null, HttpGateway.Settings.plain(0).withDrainGrace(Duration.ofSeconds(10))).start();
    int httpPort = server.httpPort();
    HttpTestClient http = HttpTestClient.local(httpPort);
    assertThat(http.get("/healthz", null).status()).isEqualTo(200);

    holdProbes = true;
    assertThat(probing.await(10, TimeUnit.SECONDS)).as("the once-a-second probe runs").isTrue();
    try (Socket inFlight = new Socket("127.0.0.1", httpPort)) {
      // A call whose body is not all there yet keeps the HTTP port draining.
      String body = "{\"externalUserId\":\"in-flight\"}";
      HttpTestClient.startMintWithPartBody(inFlight, admin, body, 5);
      Thread.sleep(300);
      CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
        try {
          server.stop(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      Thread.sleep(300);
      assertThat(http.get("/healthz", null).status()).isEqualTo(503);

      answer.countDown(); // the probe that began before the stop says the store is up
      Thread.sleep(1_500);
      assertThat(http.get("/healthz", null).status()).as("still draining").isEqualTo(503);

      inFlight.getOutputStream().write(body.substring(5).getBytes(StandardCharsets.US_ASCII));
      stopped.get(20, TimeUnit.SECONDS);
    } finally {
      answer.countDown();
      real.close();
    }
  }
}
