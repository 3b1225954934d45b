package dev.tokenauthority.server.store.sqlite;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;

/**
 * The SQLite migrations this build carries, and a stamp of them (CRC-32 of their names and
 * contents) that the store keeps in the database header's {@code user_version} once Flyway has
 * brought the schema to them. A file stamped with this build's value is opened without Flyway:
 * scanning the jar for migrations and validating them cost about 170 ms of every start
 * (docs/performance.md, "Start-up"). A new or changed migration changes the stamp, so Flyway
 * runs again and migrates, or refuses a store it cannot account for, as before.
 *
 * <p>A new store starts as a copy of {@link #TEMPLATE}, which the build makes by running these
 * migrations on an empty file ({@link SchemaTemplate}): running them at start cost about 300 ms
 * more. Its Flyway history says when and by whom the build ran them.
 */
final class BundledSchema {
  static final String LOCATION = "db/migration/sqlite";
  /** An empty store with the bundled schema, stamped; absent from builds that skipped making it. */
  static final String TEMPLATE = "db/sqlite-template.db";

  /** Every file of {@link #LOCATION}, in order; {@code BundledSchemaTest} fails when one is missing. */
  static final List<String> MIGRATIONS = List.of("V1__initial_schema.sql", "V2__quotas_and_rate_limits.sql");

  private static final int STAMP = computeStamp();

  private BundledSchema() {}

  /**
   * Runs the bundled migrations on {@code file} through Flyway (which stamps nothing itself). A
   * store a later release has migrated is refused (Flyway would only warn and run this build's
   * code on a schema it does not know): one process owns a SQLite file, so there is no rolling
   * upgrade to allow for, as there is on PostgreSQL.
   */
  static void migrate(Path file) {
    Flyway flyway = Flyway.configure()
        .dataSource("jdbc:sqlite:" + file, null, null)
        .locations("classpath:" + LOCATION)
        .ignoreMigrationPatterns(new String[0])
        .load();
    MigrationInfo current = flyway.info().current();
    String newest = MIGRATIONS.get(MIGRATIONS.size() - 1);
    MigrationVersion known = MigrationVersion.fromVersion(newest.substring(1, newest.indexOf("__")).replace('_', '.'));
    if (current != null && current.getVersion() != null && current.getVersion().compareTo(known) > 0) {
      throw new IllegalStateException("a later release migrated this store to schema version "
          + current.getVersion() + ", which this build (up to version " + known
          + ") does not know: run that release or a later one");
    }
    flyway.migrate();
  }

  /** Never 0, the {@code user_version} of a new or never-stamped file. */
  static int stamp() {
    return STAMP;
  }

  private static int computeStamp() {
    CRC32 crc = new CRC32();
    for (String name : MIGRATIONS) {
      crc.update(name.getBytes(StandardCharsets.UTF_8));
      try (InputStream in = BundledSchema.class.getClassLoader().getResourceAsStream(LOCATION + "/" + name)) {
        if (in == null) {
          throw new IllegalStateException("the migration " + LOCATION + "/" + name + " is not in this build");
        }
        crc.update(in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    int stamp = (int) crc.getValue();
    return stamp == 0 ? 1 : stamp;
  }
}
