package dev.tokenauthority.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a SQLite store runs Flyway exactly when the file is not stamped with this build's migrations. */
class BundledSchemaTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  @TempDir Path dir;

  @Test
  void theListNamesEveryMigrationOfTheBuild_inOrder() throws Exception {
    Path migrations = Path.of(BundledSchemaTest.class.getClassLoader().getResource(BundledSchema.LOCATION).toURI());
    try (Stream<Path> files = Files.list(migrations)) {
      assertThat(BundledSchema.MIGRATIONS)
          .containsExactlyElementsOf(files.map(f -> f.getFileName().toString()).sorted(BundledSchemaTest::byVersion).toList());
    }
  }

  @Test
  void aNewStore_isMigratedAndStamped() throws Exception {
    Path file = dir.resolve("new.db");
    SqliteDatabase.open(file, TIMEOUT).close();

    assertThat(userVersion(file)).isEqualTo(BundledSchema.stamp()).isNotZero();
    assertThat(appliedVersions(file)).isEqualTo(BundledSchema.MIGRATIONS.size());
  }

  @Test
  void aNewStore_isACopyOfTheBuildsTemplate_readableByItsUserOnly() throws Exception {
    Path template = Path.of(BundledSchemaTest.class.getClassLoader().getResource(BundledSchema.TEMPLATE).toURI());
    Path file = dir.resolve("copy.db");
    SqliteDatabase.open(file, TIMEOUT).close();

    // The build's Flyway run, not one at start: the history rows are the template's, to the millisecond.
    assertThat(history(file)).isEqualTo(history(template)).hasSize(BundledSchema.MIGRATIONS.size());
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString())).noneMatch(name -> name.endsWith(".new"));
    }
  }

  @Test
  void aStoreOfAnOlderBuild_isMigratedToThisOne() throws Exception {
    Path file = dir.resolve("old.db");
    // A store the first release left behind: only V1, and no stamp.
    Flyway.configure().dataSource("jdbc:sqlite:" + file, null, null).locations("classpath:" + BundledSchema.LOCATION)
        .target("1").load().migrate();
    assertThat(userVersion(file)).isZero();

    SqliteDatabase.open(file, TIMEOUT).close();

    assertThat(appliedVersions(file)).isEqualTo(BundledSchema.MIGRATIONS.size());
    assertThat(userVersion(file)).isEqualTo(BundledSchema.stamp());
  }

  @Test
  void aStoreStampedByThisBuild_isOpenedWithoutFlyway() throws Exception {
    Path file = dir.resolve("current.db");
    SqliteDatabase.open(file, TIMEOUT).close();
    // Were Flyway consulted again it would apply the last migration a second time and fail on
    // its tables, which exist: the open succeeding shows it was not.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
      s.executeUpdate("DELETE FROM flyway_schema_history WHERE version = '" + BundledSchema.MIGRATIONS.size() + "'");
    }

    SqliteDatabase.open(file, TIMEOUT).close();

    assertThat(appliedVersions(file)).isEqualTo(BundledSchema.MIGRATIONS.size() - 1);
  }

  @Test
  void aStoreStampedByAnotherBuild_goesThroughFlyway() throws Exception {
    Path file = dir.resolve("other.db");
    SqliteDatabase.open(file, TIMEOUT).close();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
      s.executeUpdate("PRAGMA user_version = 12345");
    }

    SqliteDatabase.open(file, TIMEOUT).close();

    assertThat(userVersion(file)).isEqualTo(BundledSchema.stamp());
  }

  private static int byVersion(String a, String b) {
    return Integer.compare(version(a), version(b));
  }

  private static int version(String name) {
    return Integer.parseInt(name.substring(1, name.indexOf("__")));
  }

  private static int userVersion(Path file) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static java.util.List<String> history(Path file) throws Exception {
    java.util.List<String> rows = new java.util.ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version, checksum, installed_on FROM flyway_schema_history ORDER BY installed_rank")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getInt(2) + " " + rs.getString(3));
      }
    }
    return rows;
  }

  private static int appliedVersions(Path file) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM flyway_schema_history WHERE success = 1 AND version IS NOT NULL")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
