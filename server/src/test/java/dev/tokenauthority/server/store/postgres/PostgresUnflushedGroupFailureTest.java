package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.session.SessionStore.Outcome;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.testing.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * A group of rate-limit admissions or quota charges commits its first statement on its own; a
 * statement after it that fails (a statement timeout here, not a lost connection) must not make
 * the group's committed items run again: a bucket would lose two intervals for one call, a
 * tenant be charged twice for one redemption.
 */
class PostgresUnflushedGroupFailureTest {
  private static final long INTERVAL = 1_000_000L; // one call a second
  private static final long PERIOD = 100_000_000L; // a burst of 100
  private static final long NOW = 1_800_000_000_000_000L;

  /** Statements on the table whose SQL starts with this are held or failed. */
  private volatile String table = "INSERT INTO rate_limits";
  private volatile CountDownLatch hold;
  private final CountDownLatch holding = new CountDownLatch(1);
  private final AtomicInteger failNext = new AtomicInteger();
  private final AtomicInteger errorNext = new AtomicInteger();
  private String url;
  private Store store;

  @BeforeEach
  void open() {
    url = TestPostgres.newDatabase();
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
    TestPostgres.dropDatabase(url);
  }

  private Store store() {
    store = PostgresStores.open(url, null, Duration.ofSeconds(5), real -> (Connection) Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {Connection.class}, (p, m, a) -> {
          Object r = invoke(m, real, a);
          if (m.getName().equals("prepareStatement") && a[0] instanceof String sql && sql.startsWith(table)) {
            PreparedStatement ps = (PreparedStatement) r;
            return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class}, (p2, m2, a2) -> {
              if (m2.getName().startsWith("execute")) {
                CountDownLatch h = hold;
                if (h != null) {
                  hold = null;
                  holding.countDown();
                  h.await(10, TimeUnit.SECONDS);
                } else if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  throw new PSQLException("ERROR: canceling statement due to statement timeout", PSQLState.QUERY_CANCELED);
                } else if (errorNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  throw new StackOverflowError("a bug of ours, not a store fault");
                }
              }
              return invoke(m2, ps, a2);
            });
          }
          return r;
        }));
    return store;
  }

  private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** Holds the one unflushed runner on a statement of its own, so that what is submitted next waits as one group. */
  private CountDownLatch holdTheRunner(Runnable heldCall) throws InterruptedException {
    CountDownLatch release = new CountDownLatch(1);
    hold = release;
    heldCall.run();
    assertThat(holding.await(5, TimeUnit.SECONDS)).isTrue();
    return release;
  }

  @Test
  void admissions_aLaterStatementOfTheGroupFails_theCommittedOnesAreNotTakenAgain() throws Exception {
    Store store = store();
    store.rateLimits().admitRateLimited("b", INTERVAL, PERIOD, NOW).join();
    long before = tat("b");

    CountDownLatch release = holdTheRunner(() -> store.rateLimits().admitRateLimited("h", INTERVAL, PERIOD, NOW));
    CompletableFuture<Long> first = store.rateLimits().admitRateLimited("b", INTERVAL, PERIOD, NOW);
    CompletableFuture<Long> second = store.rateLimits().admitRateLimited("b", INTERVAL, PERIOD, NOW);
    // The same bucket with another limit (its policy just changed): after the group's first statement.
    CompletableFuture<Long> changed = store.rateLimits().admitRateLimited("b", INTERVAL, PERIOD * 2, NOW);
    failNext.set(2); // that statement, and the call's own upsert alone
    release.countDown();

    List<Long> answers = List.of(first.get(10, TimeUnit.SECONDS), second.get(10, TimeUnit.SECONDS), changed.get(10, TimeUnit.SECONDS));
    assertThat(answers).as("each admitted (a positive tat)").allSatisfy(tat -> assertThat(tat).isPositive());
    assertThat((tat("b") - before) / INTERVAL).as("intervals taken from the bucket by three admitted calls").isEqualTo(3);
  }

  @Test
  void quotaCharges_aLaterStatementOfTheGroupFails_theCommittedOnesAreNotCountedAgain() throws Exception {
    table = "INSERT INTO tenant_usage";
    Store store = store();
    Instant now = StoreContractTest.T0;
    store.tenants().insertTenant(StoreContractTest.tenant("tenant-a"));
    store.apiKeys().insertApiKey(StoreContractTest.apiKey("key-1", "tenant-a", now));
    for (String id : List.of("s0", "s1", "s2", "s3", "held")) {
      store.sessions().insertSession(StoreContractTest.session(id, "key-1", 1, now.plusSeconds(3600))).join();
    }
    QuotaCharge a = new QuotaCharge("ta", "2026-01", 100);
    QuotaCharge b = new QuotaCharge("tb", "2026-01", 100);
    store.sessions().consumeSessionUse("s0", now, a).join(); // ta's month has its row

    CountDownLatch release =
        holdTheRunner(() -> store.sessions().consumeSessionUse("held", now, new QuotaCharge("th", "2026-01", 100)));
    var first = store.sessions().consumeSessionUse("s1", now, a);
    var second = store.sessions().consumeSessionUse("s2", now, a);
    var otherTenant = store.sessions().consumeSessionUse("s3", now, b); // tb's month has no row yet
    Thread.sleep(300); // the uses are taken; their charges wait behind the held one, as one group
    failNext.set(2); // creating tb's row, then tb's charge alone
    release.countDown();

    for (var redeem : List.of(first, second, otherTenant)) {
      assertThat(redeem.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.CONSUMED);
    }
    assertThat(store.sessions().countRedemptions("ta", "2026-01")).as("ta's redemptions this month").isEqualTo(3);
    assertThat(store.sessions().countRedemptions("tb", "2026-01")).as("tb's redemptions this month").isEqualTo(1);
  }

  @Test
  void anErrorInAGroupOrAlone_failsTheCalls_neverLeavesThemWaiting() throws Exception {
    Store store = store();
    store.rateLimits().admitRateLimited("b", INTERVAL, PERIOD, NOW).join();
    CountDownLatch release = holdTheRunner(() -> store.rateLimits().admitRateLimited("h", INTERVAL, PERIOD, NOW));
    CompletableFuture<Long> first = store.rateLimits().admitRateLimited("b", INTERVAL, PERIOD, NOW);
    CompletableFuture<Long> second = store.rateLimits().admitRateLimited("c", INTERVAL, PERIOD, NOW);
    errorNext.set(1); // the group's statement
    release.countDown();

    for (CompletableFuture<Long> call : List.of(first, second)) {
      assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS)).as("an answer, not a timeout").isInstanceOf(ExecutionException.class);
    }
    errorNext.set(1); // a call alone
    CompletableFuture<Long> alone = store.rateLimits().admitRateLimited("d", INTERVAL, PERIOD, NOW);
    assertThatThrownBy(() -> alone.get(10, TimeUnit.SECONDS)).as("an answer, not a timeout").isInstanceOf(ExecutionException.class);
    assertThat(store.rateLimits().admitRateLimited("d", INTERVAL, PERIOD, NOW).get(10, TimeUnit.SECONDS)).as("the next call works").isPositive();
  }

  private long tat(String bucket) throws Exception {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement ps = c.prepareStatement("SELECT tat FROM rate_limits WHERE bucket = ?")) {
      ps.setString(1, bucket);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getLong(1);
      }
    }
  }
}
