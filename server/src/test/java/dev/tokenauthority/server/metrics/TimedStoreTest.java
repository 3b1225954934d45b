package dev.tokenauthority.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.ratelimit.RateLimitStore;
import dev.tokenauthority.server.session.SessionStore;
import dev.tokenauthority.server.signing.SigningKeyStore;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.tenant.TenantStore;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TimedStore} keeps the store contract of what it wraps, and times every operation of
 * every store interface under the operation's own name.
 */
class TimedStoreTest extends StoreContractTest {
  private static final List<Class<?>> STORES =
      List.of(TenantStore.class, ApiKeyStore.class, SessionStore.class, SigningKeyStore.class, RateLimitStore.class);

  private final Metrics metrics = new Metrics();

  @Override
  protected Store newStore() {
    return new TimedStore(new MemoryStore(), metrics);
  }

  @AfterEach
  void closeMetrics() {
    metrics.close();
  }

  private static Stream<Method> operations() {
    return STORES.stream().flatMap(c -> Stream.of(c.getMethods())).filter(m -> !Modifier.isStatic(m.getModifiers()));
  }

  @Test
  void storeInterfaces_haveNoDefaultOperations_soEveryWrapperMustImplementEach() {
    assertThat(operations().filter(Method::isDefault).map(Method::toString)).isEmpty();
  }

  @Test
  void everyOperation_hasATimerNamedAfterIt() {
    Set<String> timed =
        metrics.registry().find("token_authority.store.operation.duration").timers().stream()
            .map(t -> t.getId().getTag("operation"))
            .collect(Collectors.toSet());

    assertThat(timed).isEqualTo(operations().map(Method::getName).collect(Collectors.toSet()));
  }

  @Test
  void asynchronousWrite_isTimedOnceItCompletes() {
    insertSession(session("ses-1", "key-1", 1, T0.plusSeconds(60)));

    Timer insert = metrics.registry().find("token_authority.store.operation.duration").tag("operation", "insertSession").timer();
    assertThat(insert.count()).isEqualTo(1);
  }
}
