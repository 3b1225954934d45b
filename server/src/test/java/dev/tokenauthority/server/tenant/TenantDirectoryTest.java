package dev.tokenauthority.server.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.store.memory.MemoryStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class TenantDirectoryTest {
  @Test
  void aChangeOnThisReplica_isNotUndoneByATenantReadThatWasInFlight() throws Exception {
    TenantStore real = new MemoryStore().tenants();
    CountDownLatch reading = new CountDownLatch(1);
    CountDownLatch finishRead = new CountDownLatch(1);
    AtomicBoolean holdNextRead = new AtomicBoolean();
    TenantStore slow = new TenantStore() {
      @Override
      public Optional<Tenant> findTenant(String id) {
        Optional<Tenant> t = real.findTenant(id);
        if (holdNextRead.compareAndSet(true, false)) {
          reading.countDown();
          try {
            finishRead.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return t;
      }

      @Override
      public boolean insertTenant(Tenant t) {
        return real.insertTenant(t);
      }

      @Override
      public boolean updateTenant(Tenant current, Tenant updated) {
        return real.updateTenant(current, updated);
      }

      @Override
      public List<Tenant> listTenants(String after, int limit) {
        return real.listTenants(after, limit);
      }
    };
    TenantDirectory directory = new TenantDirectory(slow, Duration.ofMinutes(1));
    TenantService tenants = new TenantService(directory, Clock.systemUTC());
    tenants.create(Tenant.newDefault("acme", "", Clock.systemUTC().instant()));

    // A mint reads the tenant's policy (ACTIVE) and is slow to cache it...
    holdNextRead.set(true);
    CompletableFuture<Optional<Tenant>> inFlight = CompletableFuture.supplyAsync(() -> directory.find("acme"));
    assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
    // ...while the operator suspends the tenant on this replica.
    tenants.update(new Tenant("acme", "", Tenant.Status.SUSPENDED, null, List.of(), 0, 0, 0, 0, 0, null, null), List.of("status"));
    finishRead.countDown();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).orElseThrow().status()).isEqualTo(Tenant.Status.ACTIVE);

    assertThat(directory.find("acme").orElseThrow().status()).as("the next call on this replica").isEqualTo(Tenant.Status.SUSPENDED);
  }
}
