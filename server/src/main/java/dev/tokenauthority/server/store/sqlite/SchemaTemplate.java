package dev.tokenauthority.server.store.sqlite;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

/**
 * A build step (server/pom.xml, process-classes): writes {@link BundledSchema#TEMPLATE}, a new
 * store's schema made by Flyway from the bundled migrations, in WAL mode and stamped, with no
 * data. New stores start as a copy of it.
 */
public final class SchemaTemplate {
  private SchemaTemplate() {}

  /** {@code args[0]}: the directory of the compiled classes and resources. */
  public static void main(String[] args) throws SQLException, java.io.IOException {
    Path out = Path.of(args[0]).resolve(BundledSchema.TEMPLATE);
    Files.createDirectories(out.getParent());
    for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
      Files.deleteIfExists(Path.of(out + suffix));
    }
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    try (Connection c = config.createConnection("jdbc:sqlite:" + out); Statement s = c.createStatement()) {
      BundledSchema.migrate(out);
      s.executeUpdate("PRAGMA user_version = " + BundledSchema.stamp());
      // Every page in the main file, so that a copy of it alone is the whole store.
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    if (Files.exists(Path.of(out + "-wal"))) {
      throw new IllegalStateException("the template's write-ahead log was not folded into " + out);
    }
  }
}
