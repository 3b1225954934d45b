package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.store.postgres.PostgresStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestPostgres;
import java.time.Duration;

/** The TenantIsolationTest cases again, served from a PostgreSQL store. */
class PostgresTenantIsolationTest extends TenantIsolationTest {
  @Override
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(PostgresStore.open(TestPostgres.newDatabase(), null, Duration.ofSeconds(5)));
  }
}
