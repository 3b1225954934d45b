package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.testing.FreshPostgresDatabase;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every pooled connection busy (slow statements under load) is not PostgreSQL gone: a call that
 * waits past the pool's timeout fails alone, safe to retry, and the store stays up, instead of
 * failing every call for a second and reporting NOT_SERVING while PostgreSQL answers.
 */
class PostgresPoolBusyTest {
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch allBusy = new CountDownLatch(PostgresDatabase.DEFAULT_POOL_SIZE);
  @RegisterExtension final FreshPostgresDatabase database = new FreshPostgresDatabase();

  @AfterEach
  void releaseTheHeldInserts() {
    release.countDown();
  }

  @Test
  void everyConnectionBusy_theWaitingCallFailsSafeToRetry_andTheStoreStaysUp() throws Exception {
    try (Store store = PostgresStores.open(database.url(), null, Duration.ofSeconds(1), this::holdingTenantInserts)) {
      List<CompletableFuture<Boolean>> slow = occupyEveryConnection(store);

      assertThatThrownBy(() -> store.tenants().findTenant("slow-0"))
          .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.commitUnknown()).isFalse());
      assertThat(store.isServing()).as("PostgreSQL answers; the pool is busy").isTrue();

      finishTheSlowInserts(slow);
      assertThat(store.tenants().findTenant("slow-0")).as("the next call, without waiting for a probe").isPresent();
    }
  }

  @Test
  void aCallInterruptedWhileWaitingForAConnection_failsAlone_andTheStoreStaysUp() throws Exception {
    try (Store store = PostgresStores.open(database.url(), null, Duration.ofSeconds(1), this::holdingTenantInserts)) {
      List<CompletableFuture<Boolean>> slow = occupyEveryConnection(store);

      // As the purge thread is when a stop interrupts it while it waits for a connection.
      Thread.currentThread().interrupt();
      try {
        assertThatThrownBy(() -> store.tenants().findTenant("slow-0")).isInstanceOf(StoreUnavailableException.class);
      } finally {
        Thread.interrupted();
      }
      assertThat(store.isServing()).as("an interrupted wait is not PostgreSQL gone: the drain's calls go on").isTrue();

      finishTheSlowInserts(slow);
    }
  }

  /** Starts one slow insert per pooled connection and waits until all of them hold theirs. */
  private List<CompletableFuture<Boolean>> occupyEveryConnection(Store store) throws InterruptedException {
    List<CompletableFuture<Boolean>> slow = new ArrayList<>();
    for (int i = 0; i < PostgresDatabase.DEFAULT_POOL_SIZE; i++) {
      String id = "slow-" + i;
      slow.add(CompletableFuture.supplyAsync(() -> store.tenants().insertTenant(StoreContractTest.tenant(id))));
    }
    assertThat(allBusy.await(10, TimeUnit.SECONDS)).as("every connection holds a slow insert").isTrue();
    return slow;
  }

  private void finishTheSlowInserts(List<CompletableFuture<Boolean>> slow) throws Exception {
    release.countDown();
    for (CompletableFuture<Boolean> insert : slow) {
      assertThat(insert.get(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  private Connection holdingTenantInserts(Connection real) {
    return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, (p, m, a) -> {
      Object r = invoke(m, real, a);
      if (m.getName().equals("prepareStatement") && a[0] instanceof String sql && sql.startsWith("INSERT INTO tenants")) {
        PreparedStatement ps = (PreparedStatement) r;
        return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class}, (p2, m2, a2) -> {
          if (m2.getName().startsWith("execute")) {
            allBusy.countDown();
            release.await(20, TimeUnit.SECONDS);
          }
          return invoke(m2, ps, a2);
        });
      }
      return r;
    });
  }

  private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
