package dev.tokenauthority.server.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.store.memory.MemoryStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TenantServiceTest {
  /** Names an older build accepted (blank, a no-break space, a bidi override): today's rules refuse them. */
  @ParameterizedTest
  @ValueSource(strings = {" ", "\u00a0", "acme\u202egnp.exe"})
  void aTenantStoredWithANameTodaysRulesRefuse_canStillBeSuspended(String oldName) {
    MemoryStore store = new MemoryStore();
    TenantService tenants = new TenantService(new TenantDirectory(store.tenants(), Duration.ofSeconds(1)), Clock.systemUTC());
    assertThat(store.tenants().insertTenant(Tenant.newDefault("acme", oldName, Clock.systemUTC().instant()))).isTrue();

    Tenant updated = tenants.update(
        new Tenant("acme", "", Tenant.Status.SUSPENDED, null, List.of(), 0, 0, 0, 0, 0, null, null), List.of("status"));

    assertThat(updated.status()).isEqualTo(Tenant.Status.SUSPENDED);
    assertThat(updated.displayName()).isEqualTo(oldName);
  }
}
