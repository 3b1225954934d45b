package dev.tokenauthority.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore.ConsumeResult;
import dev.tokenauthority.server.session.SessionStore.Outcome;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every store must do when its database fails under a write: the call fails with
 * STORE_UNAVAILABLE, and unless it says the commit outcome is unknown, nothing of the write was
 * committed; the store reports SERVING again within seconds of the fault clearing, without a
 * restart; and the next writes work and count right. Each subclass opens its store over
 * {@link ConnectionFaults} and lists the faults its database produces.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class StoreFaultContractTest {
  private static final String TENANT = "tenant-a";
  private static final Instant NOW = StoreContractTest.T0;
  private static final Instant LATER = NOW.plus(Duration.ofHours(1));
  /** How long a store may take to see that it works again. */
  private static final Duration RECOVERY = Duration.ofSeconds(5);

  protected final ConnectionFaults faults = new ConnectionFaults();
  protected Store store;

  /** A fresh, empty store whose connections go through {@code faults}. */
  protected abstract Store newStore(ConnectionFaults faults) throws Exception;

  /** The faults to try, each as (name, fault). */
  protected abstract Stream<Arguments> faults();

  @BeforeEach
  void open() throws Exception {
    faults.disarm();
    store = newStore(faults);
    store.tenants().insertTenant(StoreContractTest.tenant(TENANT));
    store.apiKeys().insertApiKey(StoreContractTest.apiKey("key-1", TENANT, NOW));
  }

  @AfterEach
  void close() {
    faults.disarm();
    store.close();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("faults")
  void insertSession_failingWrite_isNotStoredUnlessUnknown_andTheStoreRecovers(String name, ConnectionFaults.Fault fault)
      throws Exception {
    Session session = StoreContractTest.session("ses-1", "key-1", 1, LATER);

    StoreUnavailableException e = failure(fault, () -> store.sessions().insertSession(session));

    awaitServing();
    if (e != null && !e.commitUnknown()) {
      assertThat(store.sessions().findSession("ses-1")).as("a mint told STORE_UNAVAILABLE is not stored").isEmpty();
    }
    for (int i = 2; i <= 4; i++) {
      Completions.join(store.sessions().insertSession(StoreContractTest.session("ses-" + i, "key-1", 1, LATER)));
      assertThat(store.sessions().findSession("ses-" + i)).as("mint %d after the fault", i).isPresent();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("faults")
  void consumeSessionUse_failingWrite_takesNoUseUnlessUnknown_andTheStoreRecovers(String name, ConnectionFaults.Fault fault)
      throws Exception {
    redeemAfterFault(fault, null);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("faults")
  void consumeSessionUse_withQuota_failingWrite_takesNoUseUnlessUnknown_andTheStoreRecovers(
      String name, ConnectionFaults.Fault fault) throws Exception {
    redeemAfterFault(fault, new QuotaCharge(TENANT, "2026-01", 100));
  }

  /** A 5-use token: one redeem under the fault, then redeems until it is used up. */
  private void redeemAfterFault(ConnectionFaults.Fault fault, QuotaCharge quota) throws Exception {
    Completions.join(store.sessions().insertSession(StoreContractTest.session("ses-1", "key-1", 5, LATER)));

    StoreUnavailableException e = failure(fault, () -> store.sessions().consumeSessionUse("ses-1", NOW, quota));

    awaitServing();
    int remaining = store.sessions().findSession("ses-1").orElseThrow().usesRemaining();
    if (e == null) {
      assertThat(remaining).as("the redeem that succeeded took one use").isEqualTo(4);
    } else if (!e.commitUnknown()) {
      assertThat(remaining).as("a redeem told STORE_UNAVAILABLE took no use").isEqualTo(5);
    }
    // The next redeems each take exactly one use, and none succeeds past the last.
    for (int expected = remaining - 1; expected >= 0; expected--) {
      ConsumeResult r = Completions.join(store.sessions().consumeSessionUse("ses-1", NOW, quota));
      assertThat(r.outcome()).as("redeem after the fault").isEqualTo(Outcome.CONSUMED);
      assertThat(r.usesRemaining()).isEqualTo(expected);
    }
    assertThat(Completions.join(store.sessions().consumeSessionUse("ses-1", NOW, quota)).outcome()).isEqualTo(Outcome.ALREADY_USED);
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isZero();
  }

  /**
   * Runs {@code call} with {@code fault} armed. Returns its STORE_UNAVAILABLE, or null when the
   * fault's step is not on this call's path (it then succeeded, and the fault did not fire).
   */
  private <T> StoreUnavailableException failure(ConnectionFaults.Fault fault, Supplier<CompletableFuture<T>> call) {
    faults.arm(fault);
    try {
      call.get().join();
      assertThat(faults.fired()).as("a call that succeeded did not meet the fault").isFalse();
      faults.disarm();
      return null;
    } catch (CompletionException | StoreUnavailableException thrown) {
      Throwable cause = thrown instanceof CompletionException ? thrown.getCause() : thrown;
      assertThat(cause).as("what the call was told").isInstanceOf(StoreUnavailableException.class);
      assertThat(faults.fired()).isTrue();
      return (StoreUnavailableException) cause;
    }
  }

  private void awaitServing() throws InterruptedException {
    long deadline = System.nanoTime() + RECOVERY.toNanos();
    while (!store.isServing()) {
      assertThat(System.nanoTime()).as("the store reports SERVING again within %s", RECOVERY).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /** A case for {@link #faults()}. */
  protected static Arguments fault(String name, ConnectionFaults.Step step, Supplier<java.sql.SQLException> error, boolean rollsBack) {
    return Arguments.of(name, new ConnectionFaults.Fault(step, error, rollsBack));
  }
}
