package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.testing.FreshPostgresDatabase;
import dev.tokenauthority.server.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PostgreSQL that answers but takes no writes (a hot standby, a primary demoted by a failover,
 * a read-only database): refused at start with a reason, and reported not serving while it
 * lasts, so that a load balancer stops sending calls that would all fail.
 */
class PostgresReadOnlyTest {
  @RegisterExtension final FreshPostgresDatabase database = new FreshPostgresDatabase();

  @Test
  void start_onAServerThatTakesNoWrites_isRefusedWithTheReason() {
    PostgresStores.open(database.url(), null, Duration.ofSeconds(2)).close(); // migrated, as a standby's copy is
    String readOnly = database.urlWith("options=-c%20default_transaction_read_only%3Don");

    assertThatThrownBy(() -> PostgresStores.open(readOnly, null, Duration.ofSeconds(2)))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("accepts no writes")
        .hasMessageContaining("targetServerType=primary");
  }

  @Test
  void serving_whileTheServerTakesNoWrites_isFalse_andTrueOnceItDoesAgain() throws Exception {
    try (Store store = PostgresStores.open(database.url(), null, Duration.ofSeconds(2))) {
      store.tenants().insertTenant(StoreContractTest.tenant("tenant-a"));
      store.apiKeys().insertApiKey(StoreContractTest.apiKey("key-1", "tenant-a", StoreContractTest.T0));
      assertThat(store.isServing()).isTrue();

      readOnly(true);
      assertThatThrownBy(() -> store.sessions().insertSession(session("s1")).join())
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOfSatisfying(StoreUnavailableException.class,
              e -> assertThat(e.commitUnknown()).as("a refused write committed nothing: safe to retry").isFalse());
      assertThat(store.isServing()).as("health while every write fails").isFalse();

      readOnly(false);
      assertThat(store.isServing()).as("serving again").isTrue();
      store.sessions().insertSession(session("s2")).join();
    }
  }

  private static dev.tokenauthority.server.session.Session session(String id) {
    return StoreContractTest.session(id, "key-1", 1, Instant.now().plusSeconds(300));
  }

  /** Sets the database read-only (or back) and closes its connections, so that the pool reconnects under the new setting. */
  private void readOnly(boolean on) throws Exception {
    try (Connection c = DriverManager.getConnection(TestPostgres.adminUrl());
        Statement s = c.createStatement()) {
      s.execute("ALTER DATABASE " + database.name() + " SET default_transaction_read_only = " + (on ? "on" : "off"));
      s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database.name() + "' AND pid <> pg_backend_pid()");
    }
    // Past the pool's 500 ms in which it lends a connection without checking it: the dead ones go.
    Thread.sleep(1000);
  }
}
