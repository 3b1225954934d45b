package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.store.postgres.PostgresStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestPostgres;
import java.time.Duration;

/**
 * The PolicyTest table again, served from a PostgreSQL store, where rate-limit buckets live in
 * the database (shared by replicas) rather than in memory.
 */
class PostgresPolicyTest extends PolicyTest {
  @Override
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(PostgresStore.open(TestPostgres.newDatabase(), null, Duration.ofSeconds(5)));
  }
}
