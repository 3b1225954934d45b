package dev.tokenauthority.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.store.memory.MemoryStore;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TimedStore} keeps the store contract of what it wraps, and overrides every method of
 * {@link Store}: a default method left alone would bypass the wrapped store's own version (its
 * asynchronous writes).
 */
class TimedStoreTest extends StoreContractTest {
  private final Metrics metrics = new Metrics();

  @Override
  protected Store newStore() {
    return new TimedStore(new MemoryStore(), metrics);
  }

  @AfterEach
  void closeMetrics() {
    metrics.close();
  }

  @Test
  void everyStoreMethod_isOverridden() throws Exception {
    for (Method m : Store.class.getMethods()) {
      if (Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      Method own = TimedStore.class.getMethod(m.getName(), m.getParameterTypes());
      assertThat(own.getDeclaringClass()).as("%s", m).isEqualTo(TimedStore.class);
    }
  }
}
