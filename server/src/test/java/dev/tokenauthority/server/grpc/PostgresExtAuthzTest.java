package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.store.postgres.PostgresStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestPostgres;
import java.time.Duration;

/** The ExtAuthzTest cases again, served from a PostgreSQL store (a database of its own per test). */
class PostgresExtAuthzTest extends ExtAuthzTest {
  @Override
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(PostgresStore.open(TestPostgres.newDatabase(), null, Duration.ofSeconds(5)));
  }
}
