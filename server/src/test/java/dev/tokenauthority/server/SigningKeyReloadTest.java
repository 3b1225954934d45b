package dev.tokenauthority.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.session.SessionStore;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import io.grpc.inprocess.InProcessServerBuilder;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A replica uses another's rotation within about a second (deployment.md), also while it purges
 * a large backlog of expired sessions: the reload must not wait behind the purge, or the replica
 * keeps minting with a key another replica retired.
 */
class SigningKeyReloadTest {
  @SuppressWarnings("unchecked")
  private static <T> T delegating(Class<T> type, T target, java.util.function.Function<java.lang.reflect.Method, Object> override) {
    return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
      Object o = override.apply(m);
      if (o != null) {
        return o;
      }
      try {
        return m.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    });
  }

  @Test
  void rotationOnAnotherReplica_isUsedWhileALongPurgeRuns() throws Exception {
    MemoryStore shared = new MemoryStore();
    TestClock clock = new TestClock();
    CountDownLatch purging = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SessionStore slowPurge = delegating(SessionStore.class, shared.sessions(), m -> {
      if (m.getName().equals("purgeExpiredSessions")) {
        purging.countDown();
        try {
          release.await(30, TimeUnit.SECONDS); // a purge of a large backlog
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return 0;
      }
      return null;
    });
    Store storeB = delegating(Store.class, shared, m -> m.getName().equals("sessions") ? slowPurge : null);

    Authority a = new Authority(shared, Authority.Settings.defaults(), clock);
    Authority b = new Authority(storeB, Authority.Settings.defaults(), clock);
    TokenAuthorityServer serverB =
        new TokenAuthorityServer(InProcessServerBuilder.forName("key-reload-beside-a-long-purge"), b, Duration.ofMillis(50), null, null, null).start();
    try {
      assertThat(purging.await(5, TimeUnit.SECONDS)).isTrue();
      clock.advanceSeconds(1);
      String newKid = a.signingKeys().rotate().kid();

      long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // three reload periods
      while (!b.signingKeys().active().kid().equals(newKid) && System.nanoTime() < giveUp) {
        Thread.sleep(20);
      }
      assertThat(b.signingKeys().active().kid()).as("replica B signs with the new key within about a second").isEqualTo(newKid);
    } finally {
      release.countDown();
      serverB.stop(Duration.ofSeconds(1));
    }
  }
}
