package dev.tokenauthority.server.store.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import org.junit.jupiter.api.Test;

/** Runs the store contract against {@link MemoryStore}; its persistence tests are skipped. */
class MemoryStoreTest extends StoreContractTest {
  @Override
  protected Store newStore() {
    return new MemoryStore();
  }

  @Test
  void kind_newStore_isMemoryAndServing() {
    assertThat(store.kind()).isEqualTo("memory");
    assertThat(store.isServing()).isTrue();
  }
}
