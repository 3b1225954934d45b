package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.store.sqlite.SqliteStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The ExtAuthzTest cases again, served from a SQLite store instead of the memory store. */
class SqliteExtAuthzTest extends ExtAuthzTest {
  @TempDir Path dataDir;

  @Override
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(SqliteStore.open(dataDir.resolve("s" + System.nanoTime()), Duration.ofSeconds(5)));
  }
}
