package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import dev.tokenauthority.server.store.sqlite.SqliteDatabase;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.WriterHold;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopping server's HTTP port: a request that arrives during the drain is 503 UNAVAILABLE at
 * once (it did not run, so another replica can take it), while the call already running finishes.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HttpDrainTest {
  @Test
  void duringTheDrain_aNewRequestIs503AtOnce_theRunningCallFinishes(@TempDir Path dataDir) throws Exception {
    SqliteDatabase db = SqliteDatabase.open(dataDir.resolve(SqliteStores.FILE_NAME), Duration.ofSeconds(10));
    InProcessAuthority authority = InProcessAuthority.builder()
        .store(new JdbcStore(StoreKind.SQLITE, db))
        .directExecutor(false)
        .http(HttpGateway.Settings.plain(0).withDrainGrace(Duration.ofSeconds(10)))
        .start();
    String key = authority.createKey(Scopes.SESSIONS_MINT);
    HttpTestClient http = HttpTestClient.local(authority.httpPort());
    CountDownLatch release = WriterHold.hold(db); // the running mint waits for the store's writer
    CompletableFuture<HttpTestClient.Reply> running =
        CompletableFuture.supplyAsync(() -> http.post("/v1/sessions", key, "{\"externalUserId\":\"u1\"}"));
    Thread.sleep(300); // the mint has arrived and waits
    CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
      try {
        authority.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Thread.sleep(500); // the stop has begun; the HTTP port drains

    HttpTestClient.Reply late = HttpTestClient.local(authority.httpPort()).post("/v1/sessions", key, "{\"externalUserId\":\"u2\"}");
    assertThat(late.status()).isEqualTo(503);
    assertThat(late.json().getAsJsonObject("error").get("code").getAsString()).isEqualTo("UNAVAILABLE");
    assertThat(late.body()).contains("did not run");

    release.countDown();
    assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    stopped.get(20, TimeUnit.SECONDS);
  }

  /**
   * With nothing to drain, the stop ends at once: the HTTP port's acceptor thread used to take
   * Netty's default two-second quiet period after everything else had stopped, for every stop.
   */
  @Test
  void aStopWithNothingToDrain_doesNotWaitForTheAcceptorsQuietPeriod() throws Exception {
    InProcessAuthority authority = InProcessAuthority.builder()
        .http(HttpGateway.Settings.plain(0))
        .start();
    int port = authority.httpPort();

    long started = System.nanoTime();
    authority.close();
    Duration stop = Duration.ofNanos(System.nanoTime() - started);

    assertThat(stop).isLessThan(Duration.ofMillis(1_500));
    assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().endsWith(":" + port));
  }
}
