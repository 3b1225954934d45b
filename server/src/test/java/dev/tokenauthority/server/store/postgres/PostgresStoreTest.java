package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.session.SessionStore.Outcome;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the store contract, persistence included, against a real PostgreSQL (embedded, or the
 * server of TOKEN_AUTHORITY_TEST_PG_URL), one fresh database per test; plus what only a shared
 * database has: two stores on it at once.
 */
class PostgresStoreTest extends StoreContractTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private String url;

  @Override
  protected Store newStore() {
    url = TestPostgres.newStoreDatabase();
    return PostgresStores.open(url, null, TIMEOUT);
  }

  @Override
  protected boolean persists() {
    return true;
  }

  @Override
  protected Store reopen(Store current) {
    current.close();
    return PostgresStores.open(url, null, TIMEOUT);
  }

  @AfterEach
  void dropDatabase() {
    TestPostgres.dropDatabase(url);
  }

  @Test
  void open_twoStoresAtOnce_bothMigrateAndSeeEachOthersWrites() throws Exception {
    var second = new java.util.concurrent.FutureTask<Store>(() -> PostgresStores.open(url, null, TIMEOUT));
    new Thread(second).start();
    try (Store other = second.get()) {
      assertThat(store.tenants().insertTenant(tenant("acme"))).isTrue();
      assertThat(other.tenants().insertTenant(tenant("acme"))).isFalse();
      assertThat(other.tenants().findTenant("acme")).isPresent();
    }
  }

  @Test
  void purgeRateLimits_aFullBucketAnAdmissionHoldsOrHasJustMoved_isKept() throws Exception {
    long period = 60_000_000L;
    long now = 1_800_000_000_000_000L;
    store.rateLimits().admitRateLimited("held", period, period, now).join();
    store.rateLimits().admitRateLimited("idle", period, period, now).join();
    long later = now + period + 1;
    try (java.sql.Connection admission = java.sql.DriverManager.getConnection(url)) {
      // Another replica's admission, under way: it has moved the full bucket's TAT on.
      admission.setAutoCommit(false);
      try (java.sql.Statement s = admission.createStatement()) {
        s.executeUpdate("UPDATE rate_limits SET tat = " + (later + period) + " WHERE bucket = 'held'");
      }
      var purge = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> store.rateLimits().purgeRateLimits(later, "", 1000));
      assertThat(purge.get(4, java.util.concurrent.TimeUnit.SECONDS))
          .as("the purge neither waits for the admission nor deletes what it holds").containsExactly("idle");
      admission.commit();
    }
    assertThat(store.rateLimits().admitRateLimited("held", period, period, later).join())
        .as("the admission's calls are remembered").isNegative();
  }

  @Test
  void admitRateLimited_twoReplicasAtOnce_admitExactlyEachBucketsBurstBetweenThem() throws Exception {
    long period = 60_000_000L;
    long interval = dev.tokenauthority.server.ratelimit.Gcra.intervalMicros(10, period);
    long now = 1_800_000_000_000_000L;
    int buckets = 3;
    try (Store other = PostgresStores.open(url, null, TIMEOUT)) {
      // Half the calls through each replica, each replica's calls grouped, the same rows locked.
      List<Long> results = runAtOnce(THREADS, thread -> (thread % 2 == 0 ? store : other).rateLimits()
          .admitRateLimited("key:" + (thread % buckets), interval, period, now).join());

      for (int b = 0; b < buckets; b++) {
        int bucket = b;
        List<Long> admitted = java.util.stream.IntStream.range(0, THREADS).filter(t -> t % buckets == bucket)
            .mapToObj(results::get).filter(r -> r > 0).sorted().toList();
        assertThat(admitted).as("bucket %d", bucket)
            .isEqualTo(java.util.stream.LongStream.rangeClosed(1, 10).map(i -> now + i * interval).boxed().toList());
      }
    }
  }

  @Test
  void consumeSessionUse_withQuota_twoReplicasAtOnce_countExactlyTheQuotaBetweenThem() throws Exception {
    insertSessionPerThread(2);
    var quota = new dev.tokenauthority.server.session.SessionStore.QuotaCharge(TENANT, "2026-01", 37);
    try (Store other = PostgresStores.open(url, null, TIMEOUT)) {
      // Both uses of every session, half the sessions through each replica, the same month's row.
      List<List<Outcome>> results = runAtOnce(THREADS, thread -> {
        Store replica = thread % 2 == 0 ? store : other;
        return java.util.stream.Stream.of(0, 1)
            .map(use -> replica.sessions().consumeSessionUse("ses-" + thread, T0, quota).join().outcome()).toList();
      });

      assertThat(results.stream().flatMap(List::stream).filter(o -> o == Outcome.CONSUMED).count()).isEqualTo(37);
      assertThat(other.sessions().countRedemptions(TENANT, "2026-01")).isEqualTo(37);
      long left = java.util.stream.IntStream.range(0, THREADS)
          .mapToLong(i -> store.sessions().findSession("ses-" + i).orElseThrow().usesRemaining()).sum();
      assertThat(left).isEqualTo(2L * THREADS - 37);
    }
  }

  @Test
  void purgeExpiredSessions_whileAnotherStoreHoldsThePurgeLock_purgesNothing() throws Exception {
    store.apiKeys().insertApiKey(apiKey("key-1", "tenant-a", T0));
    insertSession(session("ses-1", "key-1", 1, T0.minusSeconds(10)));
    try (Store other = PostgresStores.open(url, null, TIMEOUT)) {
      java.util.concurrent.CountDownLatch locked = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      Thread holder = new Thread(() -> holdPurgeLock(locked, release));
      holder.start();
      locked.await();
      try {
        assertThat(other.sessions().purgeExpiredSessions(T0, 100)).isZero();
        assertThat(other.sessions().findSession("ses-1")).isPresent();
      } finally {
        release.countDown();
        holder.join();
      }
      assertThat(other.sessions().purgeExpiredSessions(T0, 100)).isEqualTo(1);
    }
  }

  @Test
  void purgeExpiredSessions_twoReplicasAtOnce_deleteEverySessionOnceInBoundedBatches() throws Exception {
    store.apiKeys().insertApiKey(apiKey("key-1", "tenant-a", T0));
    var inserts = new java.util.ArrayList<java.util.concurrent.CompletableFuture<Void>>();
    for (int i = 0; i < 3000; i++) {
      inserts.add(store.sessions().insertSession(session(String.format("ses-%05d", i), "key-1", 1, T0.minusSeconds(1))));
    }
    inserts.forEach(java.util.concurrent.CompletableFuture::join);
    insertSession(session("ses-live", "key-1", 1, T0.plusSeconds(3600)));
    try (Store other = PostgresStores.open(url, null, TIMEOUT)) {
      java.util.concurrent.atomic.AtomicInteger maxBatch = new java.util.concurrent.atomic.AtomicInteger();
      java.util.function.Function<Store, java.util.concurrent.Callable<Integer>> purger = replica -> () -> {
        int total = 0;
        for (int round = 0; round < 200; round++) {
          int n = replica.sessions().purgeExpiredSessions(T0, 100);
          maxBatch.accumulateAndGet(n, Math::max);
          total += n;
        }
        return total;
      };
      var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        var a = pool.submit(purger.apply(store));
        var b = pool.submit(purger.apply(other));
        assertThat(a.get() + b.get()).isEqualTo(3000);
      } finally {
        pool.shutdownNow();
      }
      assertThat(maxBatch.get()).isLessThanOrEqualTo(100);
      assertThat(store.sessions().findSession("ses-00000")).isEmpty();
      assertThat(store.sessions().findSession("ses-live")).isPresent();
    }
  }

  @Test
  void open_unreachableServer_failsWithStoreUnavailableWithinTheTimeout() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> PostgresStores.open("jdbc:postgresql://127.0.0.1:1/none?user=nobody", null, Duration.ofSeconds(1)))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("cannot connect to PostgreSQL");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void redact_hidesPasswordsAndUserInfo() {
    assertThat(PostgresStores.redact("jdbc:postgresql://db:5432/ta?user=ta&password=s3cret&ssl=true"))
        .isEqualTo("jdbc:postgresql://db:5432/ta?user=ta&password=***&ssl=true");
    assertThat(PostgresStores.redact("jdbc:postgresql://ta:s3cret@db/ta")).isEqualTo("jdbc:postgresql://***@db/ta");
  }

  private void holdPurgeLock(java.util.concurrent.CountDownLatch locked, java.util.concurrent.CountDownLatch release) {
    try (var c = java.sql.DriverManager.getConnection(url)) {
      c.setAutoCommit(false);
      try (var s = c.createStatement()) {
        s.execute("SELECT pg_advisory_xact_lock(" + 0x7075726765L + ")");
      }
      locked.countDown();
      release.await();
      c.rollback();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
