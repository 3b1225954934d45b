package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.store.sqlite.SqliteStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The PolicyTest table again, served from a SQLite store. */
class SqlitePolicyTest extends PolicyTest {
  @TempDir Path dataDir;

  @Override
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(SqliteStore.open(dataDir.resolve("s" + System.nanoTime()), Duration.ofSeconds(5)));
  }
}
