package dev.tokenauthority.server.store.postgres;

import dev.tokenauthority.server.store.ConnectionFaults;
import dev.tokenauthority.server.store.ConnectionFaults.Step;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreFaultContractTest;
import dev.tokenauthority.server.testing.TestPostgres;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.provider.Arguments;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * PostgreSQL losing the connection at each step of a write: before the statement, after it ran,
 * before COMMIT and after it (the commit happened, the answer was lost). Only the last two, and a
 * single autocommit statement that ran, may have committed: those must say so.
 */
class PostgresStoreFaultTest extends StoreFaultContractTest {
  private String url;

  @Override
  protected Store newStore(ConnectionFaults faults) {
    url = TestPostgres.newDatabase();
    return PostgresStores.open(url, null, Duration.ofSeconds(5), faults);
  }

  @AfterEach
  void dropDatabase() {
    TestPostgres.dropDatabase(url);
  }

  @Override
  protected Stream<Arguments> faults() {
    return Stream.of(
        fault("connection lost before the statement", Step.BEFORE_STATEMENT, PostgresStoreFaultTest::lost, false),
        fault("connection lost after the statement", Step.AFTER_STATEMENT, PostgresStoreFaultTest::lost, false),
        fault("connection lost before COMMIT", Step.BEFORE_COMMIT, PostgresStoreFaultTest::lost, false),
        fault("connection lost after COMMIT", Step.AFTER_COMMIT, PostgresStoreFaultTest::lost, false));
  }

  private static PSQLException lost() {
    return new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
  }
}
