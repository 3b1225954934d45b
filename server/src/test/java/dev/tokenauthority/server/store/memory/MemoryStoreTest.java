package dev.tokenauthority.server.store.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.store.StoreKind;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Runs the store contract against {@link MemoryStore}; its persistence tests are skipped. */
class MemoryStoreTest extends StoreContractTest {
  @Override
  protected Store newStore() {
    return new MemoryStore();
  }

  @Test
  void insertSession_atCapacity_isStoreUnavailable_andAPurgeMakesRoom() {
    MemoryStore small = new MemoryStore(2);
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    small.insertSession(session("ses-1", "key-1", 1, t0.plusSeconds(10))).join();
    small.insertSession(session("ses-2", "key-1", 1, t0.plusSeconds(3600))).join();

    assertThatThrownBy(() -> Completions.join(small.insertSession(session("ses-3", "key-1", 1, t0.plusSeconds(3600)))))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("maximum of 2 sessions");

    assertThat(small.purgeExpiredSessions(t0.plusSeconds(60), 100)).isEqualTo(1);
    small.insertSession(session("ses-3", "key-1", 1, t0.plusSeconds(3600))).join();
    assertThat(small.findSession("ses-3")).isPresent();
  }

  @Test
  void kind_newStore_isMemoryAndServing() {
    assertThat(store.kind()).isEqualTo(StoreKind.MEMORY);
    assertThat(store.isServing()).isTrue();
  }
}
