package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.testing.TestPostgres;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * PostgreSQL failures in the middle of a redeem's parts, where what the caller is told must match
 * what was committed: a plain STORE_UNAVAILABLE promises that nothing was (a retry is safe), and
 * commit_state=unknown is kept for writes whose outcome is unknown.
 */
class PostgresRedeemFaultTest {
  static final Instant NOW = StoreContractTest.T0;
  static final Instant LATER = NOW.plus(Duration.ofHours(1));

  volatile String failSqlPrefix;          // next statement starting with this fails (connection lost)
  volatile CountDownLatch holdCharge;     // the first charge statement waits on this, then fails
  volatile CountDownLatch chargeStarted;

  Store open(String url) throws Exception {
    UnaryOperator<Connection> wrap = real -> (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
        (p, m, a) -> {
          Object r = invoke(m, real, a);
          if (m.getName().equals("prepareStatement") && a[0] instanceof String sql) {
            PreparedStatement ps = (PreparedStatement) r;
            return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class}, (p2, m2, a2) -> {
              if (m2.getName().startsWith("execute")) {
                String prefix = failSqlPrefix;
                if (prefix != null && sql.startsWith(prefix)) {
                  failSqlPrefix = null;
                  throw new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
                }
                CountDownLatch hold = holdCharge;
                if (hold != null && sql.contains("tenant_usage") && !sql.startsWith("UPDATE")) {
                  holdCharge = null;
                  chargeStarted.countDown();
                  hold.await(10, TimeUnit.SECONDS);
                  Thread.sleep(20);
                  throw new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
                }
              }
              return invoke(m2, ps, a2);
            });
          }
          return r;
        });
    Store store = PostgresStores.open(url, null, Duration.ofSeconds(5), wrap);
    store.tenants().insertTenant(StoreContractTest.tenant("tenant-a"));
    store.apiKeys().insertApiKey(StoreContractTest.apiKey("key-1", "tenant-a", NOW));
    return store;
  }

  static Object invoke(Method m, Object t, Object[] a) throws Throwable {
    try {
      return m.invoke(t, a);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  static StoreUnavailableException failureOf(CompletableFuture<?> f) {
    try {
      f.join();
      return null;
    } catch (CompletionException e) {
      return (StoreUnavailableException) e.getCause();
    }
  }

  void awaitServing(Store store) throws Exception {
    for (int i = 0; i < 100 && !store.isServing(); i++) {
      Thread.sleep(50);
    }
  }

  /** A read (the session lookup of a redeem) that loses its connection wrote nothing: it must not say commit_state=unknown. */
  @Test
  void aLookupThatLosesItsConnection_isAPlainFailure_notACommitOfUnknownOutcome() throws Exception {
    String url = TestPostgres.newDatabase();
    Store store = open(url);
    try {
      Session s = StoreContractTest.session("ses-1", "key-1", 1, LATER);
      store.sessions().insertSession(s).join();
      failSqlPrefix = "SELECT id, tenant_id";
      StoreUnavailableException e = failureOf(store.sessions().findSessionForToken("ses-1", s.tokenHash()));
      assertThat(e).isNotNull();
      assertThat(e.commitUnknown()).as("a failed read reported as commit_state=unknown").isFalse();
    } finally {
      store.close();
      TestPostgres.dropDatabase(url);
    }
  }

  /**
   * A quota redeem whose use was taken but whose count failed, and whose use could not be given
   * back (the store was down by then), was told a plain STORE_UNAVAILABLE ("nothing committed,
   * safe to retry"): it must say the outcome is unknown.
   */
  @Test
  void aQuotaRedeemWhoseUseStaysTaken_isNeverToldPlainStoreUnavailable() throws Exception {
    String url = TestPostgres.newDatabase();
    Store store = open(url);
    try {
      store.sessions().insertSession(StoreContractTest.session("ses-x", "key-1", 5, LATER)).join();
      store.sessions().insertSession(StoreContractTest.session("ses-y", "key-1", 5, LATER)).join();
      QuotaCharge quota = new QuotaCharge("tenant-a", "2026-01", 100);
      CountDownLatch release = new CountDownLatch(1);
      holdCharge = release;
      chargeStarted = new CountDownLatch(1);
      CompletableFuture<?> x = store.sessions().consumeSessionUse("ses-x", NOW, quota);
      assertThat(chargeStarted.await(5, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<?> y = store.sessions().consumeSessionUse("ses-y", NOW, quota);
      // y's use commits (its own batch kind); its count waits behind x's (unflushed groups run one at a time)
      boolean yTookItsUse = false;
      for (int i = 0; i < 250 && !yTookItsUse; i++) {
        Thread.sleep(20);
        yTookItsUse = store.sessions().findSession("ses-y").orElseThrow().usesRemaining() == 4;
      }
      assertThat(yTookItsUse).as("y's use was taken before x's count failed (the case under test)").isTrue();
      // x's count now loses its connection: the store is marked down
      release.countDown();
      StoreUnavailableException ex = failureOf(x);
      StoreUnavailableException ey = failureOf(y);
      awaitServing(store);
      assertThat(store.isServing()).as("the store came back").isTrue();
      int left = store.sessions().findSession("ses-y").orElseThrow().usesRemaining();
      assertThat(ey).isNotNull();
      if (!ey.commitUnknown()) {
        assertThat(left).as("a redeem told plain STORE_UNAVAILABLE took no use").isEqualTo(5);
      }
    } finally {
      store.close();
      TestPostgres.dropDatabase(url);
    }
  }
}
