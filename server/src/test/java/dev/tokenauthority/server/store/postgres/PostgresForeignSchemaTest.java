package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.testing.FreshPostgresDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A URL that points at another application's database: refused at start with what to do, not
 * with Flyway's advice to run {@code baseline()}, which this server has no command for (and which
 * would mark the other schema as ours).
 */
class PostgresForeignSchemaTest {
  @RegisterExtension final FreshPostgresDatabase database = new FreshPostgresDatabase();

  @Test
  void start_onADatabaseHoldingAnotherApplicationsTables_isRefusedSayingToGiveItOneOfItsOwn() throws Exception {
    try (Connection c = DriverManager.getConnection(database.url());
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE orders (id bigint PRIMARY KEY)");
    }

    assertThatThrownBy(() -> PostgresStores.open(database.url(), null, Duration.ofSeconds(2)))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("a database of its own")
        .hasMessageContaining("\"public\"")
        .hasMessageNotContaining("baseline");
  }
}
