package dev.tokenauthority.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.tenant.Tenant;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SQLite data dir the server cannot use stops the start with exit code 2 and one line naming
 * the cause, before any port is bound: a file that is not a database, damaged pages, a
 * read-only directory, a data dir another process holds.
 */
// A start that is not refused serves until stopped: fail it rather than hang the suite.
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StartupFaultTest {
  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Main.run(args, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Run start(Path dataDir) {
    return run("--data-dir", dataDir.toString(), "--port", "0");
  }

  /** Exit 2 and exactly one line on stderr, which is returned. */
  private static String refused(Run run) {
    assertThat(run.exit()).as("exit code; stderr: %s", run.err()).isEqualTo(2);
    List<String> lines = run.err().lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as("stderr").hasSize(1);
    assertThat(lines.get(0)).startsWith("token-authority: --data-dir: ").doesNotContain("Exception");
    return lines.get(0);
  }

  /** A store with a few rows, closed, as a previous run leaves it. */
  private Path existingStore() {
    Path data = dir.resolve("data");
    try (Store store = SqliteStores.open(data, Duration.ofSeconds(5))) {
      for (int i = 0; i < 50; i++) {
        store.tenants().insertTenant(Tenant.newDefault("tenant-" + i, "Tenant " + i, Instant.parse("2030-01-01T00:00:00Z")));
      }
    }
    return data;
  }

  @Test
  void firstStart_whosePortIsTaken_stillShowsTheAdminKeyItStored() throws Exception {
    // A later start finds that key and makes none: this failed start is the only one to show it.
    Path data = dir.resolve("data");
    ByteArrayOutputStream shown = new ByteArrayOutputStream();
    PrintStream realOut = System.out;
    Run first;
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress(0));
      System.setOut(new PrintStream(shown, true, StandardCharsets.UTF_8)); // where the key is printed
      first = run("--data-dir", data.toString(), "--port", String.valueOf(taken.getLocalPort()), "--http-port", "off");
    } finally {
      System.setOut(realOut);
    }
    assertThat(first.exit()).as(first.err()).isEqualTo(2);
    assertThat(first.err()).contains("cannot listen on port");

    String secret = shown.toString(StandardCharsets.UTF_8).lines()
        .map(String::strip).filter(l -> l.startsWith("sk_")).findFirst().orElseThrow();
    try (Store store = SqliteStores.open(data, Duration.ofSeconds(5))) {
      assertThat(new Authority(store, Authority.Settings.defaults(), java.time.Clock.systemUTC()).apiKeys()
          .authenticate(secret).isAdmin()).isTrue();
    }
  }

  @Test
  void start_storeMigratedByALaterRelease_exits2WithOneLine_andLeavesItAsItWas() throws Exception {
    Path data = existingStore();
    Path file = data.resolve(SqliteStores.FILE_NAME);
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
        java.sql.Statement s = c.createStatement()) {
      // What a later release's migration V3 leaves behind.
      s.executeUpdate("INSERT INTO flyway_schema_history VALUES (3, '3', 'later release', 'SQL', 'V3__later.sql',"
          + " 1, '', '2030-01-01 00:00:00.000', 1, 1)");
      s.executeUpdate("ALTER TABLE api_keys ADD COLUMN later_release_column TEXT");
      s.executeUpdate("PRAGMA user_version = 12345");
    }

    String line = refused(start(data));

    assertThat(line).contains("a later release migrated this store to schema version 3");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
        java.sql.ResultSet r = c.createStatement().executeQuery("PRAGMA user_version")) {
      assertThat(r.getInt(1)).as("the later release's stamp, untouched").isEqualTo(12345);
    }
  }

  @Test
  void start_aStoredSigningKeyThisBuildCannotDecode_exits2WithOneLine() throws Exception {
    Path data = dir.resolve("data");
    try (Store store = SqliteStores.open(data, Duration.ofSeconds(5))) {
      new Authority(store, Authority.Settings.defaults(), java.time.Clock.systemUTC()); // makes the first signing key
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + data.resolve(SqliteStores.FILE_NAME));
        java.sql.Statement s = c.createStatement()) {
      assertThat(s.executeUpdate("UPDATE signing_keys SET private_key = x'00'")).isPositive();
    }

    assertThat(refused(start(data))).contains("the store holds data this build cannot read")
        .contains("signing key");
  }

  @Test
  void start_aMigrationWhoseChecksumChanged_exits2WithOneLineSayingWhichAndWhatToDo() throws Exception {
    Path data = existingStore();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + data.resolve(SqliteStores.FILE_NAME));
        java.sql.Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE flyway_schema_history SET checksum = 42 WHERE version = '2'");
      s.executeUpdate("PRAGMA user_version = 0"); // so that Flyway validates it
    }

    assertThat(refused(start(data)))
        .contains("schema history does not match this build's migrations")
        .contains("checksum mismatch for migration version 2")
        .contains("restore a backup this release made")
        .doesNotContain("repair")
        .doesNotContain("Learn more");
  }

  @Test
  void start_fileThatIsNotADatabase_exits2WithOneLine() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    byte[] noise = new byte[100_000];
    new Random(7).nextBytes(noise);
    Files.write(data.resolve(SqliteStores.FILE_NAME), noise);

    assertThat(refused(start(data))).contains("is not a SQLite database or is damaged").contains("SQLITE_NOTADB");
  }

  @Test
  void start_damagedPages_exits2WithOneLine() throws Exception {
    Path data = existingStore();
    Path db = data.resolve(SqliteStores.FILE_NAME);
    // Keep page 1 (the header and the schema), overwrite every page after it.
    try (RandomAccessFile file = new RandomAccessFile(db.toFile(), "rw")) {
      byte[] garbage = new byte[(int) file.length() - 4096];
      Arrays.fill(garbage, (byte) 0xA5);
      file.seek(4096);
      file.write(garbage);
    }

    assertThat(refused(start(data))).contains("is not a SQLite database or is damaged");
  }

  @Test
  void start_dataDirLockedByAnotherProcess_exits2WithOneLine() throws Exception {
    Path data = existingStore();
    // The lock another server holds (the operating system's lock, as FileChannel takes it).
    try (FileChannel other = FileChannel.open(data.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock held = other.lock()) {
      assertThat(refused(start(data))).contains("is in use by another token-authority process");
    }
  }

  @Test
  void start_existingDatabaseInReadOnlyDirectory_exits2WithOneLine() throws Exception {
    // Permissions do not bind root; the read-only case is then shown on a read-only mount.
    assumeFalse("root".equals(System.getProperty("user.name")), "permissions do not bind root");
    Path data = existingStore();
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r-x------"));
    try {
      assertThat(refused(start(data))).contains("cannot write");
    } finally {
      Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    }
  }
}
