package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import dev.tokenauthority.server.store.sqlite.SqliteDatabase;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.server.testing.WriterHold;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code expires_in_seconds} is the TTL the token was given, however long its write took. */
class MintExpiresInTest {
  @Test
  void aWriteThatEndsInTheNextSecond_stillAnswersTheTtlGiven(@TempDir Path dataDir) throws Exception {
    TestClock clock = new TestClock(Instant.parse("2030-01-01T00:00:00.999Z"));
    SqliteDatabase db = SqliteDatabase.open(dataDir.resolve(SqliteStores.FILE_NAME), Duration.ofSeconds(10));
    InProcessAuthority ta = InProcessAuthority.builder().store(new JdbcStore(StoreKind.SQLITE, db)).clock(clock).start();
    try {
      String key = ta.createKey(Scopes.SESSIONS_MINT);
      CountDownLatch release = WriterHold.hold(db); // the mint's write waits in the writer's queue
      CompletableFuture<MintSessionResponse> minted = CompletableFuture.supplyAsync(
          () -> ta.mint(key, MintSessionRequest.newBuilder().setExternalUserId("u1").setTtlSeconds(1).build()));
      Thread.sleep(300); // the mint has read the clock and waits for its write
      clock.advance(Duration.ofMillis(500)); // its answer is built in the next second
      release.countDown();

      MintSessionResponse r = minted.get(10, TimeUnit.SECONDS);
      // The token expires at 00:00:02 (a TTL of 1 s from 00:00:00.999, rounded up): 1 s it was given.
      assertThat(r.getExpireTime().getSeconds()).isEqualTo(Instant.parse("2030-01-01T00:00:02Z").getEpochSecond());
      assertThat(r.getExpiresInSeconds()).isEqualTo(1);
    } finally {
      ta.close();
    }
  }
}
