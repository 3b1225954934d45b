package dev.tokenauthority.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.session.SessionStore.ConsumeResult;
import dev.tokenauthority.server.session.SessionStore.Outcome;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.session.SessionStore.RedeemCheck;
import dev.tokenauthority.server.session.SessionStore.Redemption;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import dev.tokenauthority.server.testing.WriterHold;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the store contract, persistence included, against the SQLite store in a temporary data
 * directory, plus what only SQLite has: its file's permissions and its behaviour once closed.
 */
class SqliteStoreTest extends StoreContractTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dataDir;

  /** The database under {@link #store}, to hold its writer. */
  private SqliteDatabase database;

  @Override
  protected Store newStore() {
    database = SqliteDatabase.open(dataDir.resolve(SqliteStores.FILE_NAME), TIMEOUT);
    return new JdbcStore(StoreKind.SQLITE, database);
  }

  @Override
  protected boolean persists() {
    return true;
  }

  @Override
  protected Store reopen(Store current) {
    current.close();
    return SqliteStores.open(dataDir, TIMEOUT);
  }

  @Test
  void open_newDataDirectory_createsDatabaseFilesOwnerOnly() throws Exception {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX permissions only");
    Path fresh = dataDir.resolve("nested").resolve("data");

    try (Store other = SqliteStores.open(fresh, TIMEOUT)) {
      other.tenants().insertTenant(tenant("acme")); // a write, so SQLite's -wal and -shm files exist too

      Path db = fresh.resolve(SqliteStores.FILE_NAME);
      assertThat(Files.getPosixFilePermissions(db)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
      // WAL mode keeps a -wal and a -shm file beside the database while it is open.
      for (String suffix : new String[] {"-wal", "-shm"}) {
        Path side = fresh.resolve(SqliteStores.FILE_NAME + suffix);
        assertThat(side).exists();
        assertThat(Files.getPosixFilePermissions(side)).as(side.toString())
            .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      }
    }
  }

  @Test
  void forgetPrivateKey_leavesNoCopyOfItInTheDatabaseFiles_soACopyOfThemCannotSign() throws Exception {
    byte[] privateKey = new byte[48];
    new java.security.SecureRandom().nextBytes(privateKey);
    store.signingKeys().insertSigningKey(new SigningKey("kid-retired", privateKey, new byte[44], T0));
    store.signingKeys().insertSigningKey(new SigningKey("kid-newest", new byte[48], new byte[44], T0.plusSeconds(60)));
    assertThat(filesHolding(privateKey)).as("the test finds the key where it is").isNotEmpty();

    store.signingKeys().forgetPrivateKey("kid-retired");

    assertThat(filesHolding(privateKey)).as("files holding the erased key, while open").isEmpty();
    store.close();
    assertThat(filesHolding(privateKey)).as("files holding the erased key, once closed").isEmpty();
  }

  @Test
  void redeemsWhileErasuresAreCheckpointed_allCommit() throws Exception {
    insertKey("key-1");
    Instant later = T0.plusSeconds(3600);
    List<Session> sessions = new java.util.ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      Session s = session("ses-" + i, "key-1", 1, later);
      insertSession(s);
      sessions.add(s);
    }
    store.signingKeys().insertSigningKey(new SigningKey("kid-1", new byte[48], new byte[44], T0));

    java.util.concurrent.ExecutorService redeemers = java.util.concurrent.Executors.newFixedThreadPool(4);
    List<java.util.concurrent.Future<List<Redemption>>> answers = new java.util.ArrayList<>();
    try {
      for (int t = 0; t < 4; t++) {
        List<Session> mine = sessions.subList(t * 500, (t + 1) * 500);
        answers.add(redeemers.submit(() -> {
          List<Redemption> got = new java.util.ArrayList<>();
          for (Session s : mine) {
            got.add(redeemLater(s, session -> {}, T0, null).join());
          }
          return got;
        }));
      }
      // Each erasure is followed by a checkpoint on a connection of its own, as a rotation's is.
      for (int i = 0; i < 20; i++) {
        store.signingKeys().forgetPrivateKey("kid-1");
      }
      for (var answer : answers) {
        assertThat(answer.get(60, java.util.concurrent.TimeUnit.SECONDS))
            .allSatisfy(r -> assertThat(r.consumed()).isEqualTo(ConsumeResult.consumed(0)));
      }
    } finally {
      redeemers.shutdownNow();
    }
  }

  /** The data directory's files holding any 12 bytes in a row of {@code secret}, by name. */
  private List<String> filesHolding(byte[] secret) throws Exception {
    int piece = 12;
    List<String> holding = new java.util.ArrayList<>();
    try (var files = Files.list(dataDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        byte[] content = Files.readAllBytes(f);
        search:
        for (int from = 0; from + piece <= secret.length; from++) {
          for (int i = 0; i + piece <= content.length; i++) {
            if (java.util.Arrays.equals(content, i, i + piece, secret, from, from + piece)) {
              holding.add(f.getFileName().toString());
              break search;
            }
          }
        }
      }
    }
    return holding;
  }

  @Test
  void redeemSessionUse_redeemsInOneWriterTransaction_eachAnsweredAsItWouldBeAlone() throws Exception {
    insertKey("key-1");
    Instant later = T0.plusSeconds(3600);
    Session twice = session("ses-twice", "key-1", 2, later);
    Session checked = session("ses-checked", "key-1", 1, later);
    Session expired = session("ses-expired", "key-1", 1, T0.plusSeconds(1));
    Session quotaFirst = session("ses-quota-1", "key-1", 1, later);
    Session quotaSecond = session("ses-quota-2", "key-1", 1, later);
    for (Session s : List.of(twice, checked, expired, quotaFirst, quotaSecond)) {
      insertSession(s);
    }
    RedeemCheck pass = session -> {};
    RedeemCheck refuse = session -> {
      throw new IllegalStateException("refused by the check");
    };
    QuotaCharge oneLeft = new QuotaCharge(TENANT, "2026-01", 1);

    // Queued behind a write that holds the writer, so that all of them fall into one transaction.
    CountDownLatch release = WriterHold.hold(database);
    List<CompletableFuture<Redemption>> answers =
        List.of(
            redeemLater(twice, pass, T0, null),
            redeemLater(checked, refuse, T0, null),
            redeemLater(twice, pass, T0, null),
            store.sessions().redeemSessionUse("ses-unknown", twice.tokenHash(), pass, T0, null),
            store.sessions().redeemSessionUse("ses-checked", SecretHash.of("another token"), pass, T0, null),
            redeemLater(expired, pass, T0.plusSeconds(2), null),
            redeemLater(quotaFirst, pass, T0, oneLeft),
            redeemLater(quotaSecond, pass, T0, oneLeft),
            redeemLater(twice, pass, T0, null));
    release.countDown();
    List<Redemption> r = answers.stream().map(CompletableFuture::join).toList();

    assertThat(r.get(0).consumed()).isEqualTo(ConsumeResult.consumed(1));
    assertThat(r.get(1).refusal()).hasMessage("refused by the check");
    assertThat(r.get(2).consumed()).isEqualTo(ConsumeResult.consumed(0));
    assertThat(r.get(3).session()).isNull();
    assertThat(r.get(4).session()).isNull();
    assertThat(r.get(5).consumed().outcome()).isEqualTo(Outcome.EXPIRED);
    assertThat(r.get(6).consumed()).isEqualTo(ConsumeResult.consumed(0));
    assertThat(r.get(7).consumed().outcome()).isEqualTo(Outcome.QUOTA_EXCEEDED);
    assertThat(r.get(8).consumed().outcome()).isEqualTo(Outcome.ALREADY_USED);
    assertThat(store.sessions().findSession("ses-twice").orElseThrow().usesRemaining()).isZero();
    assertThat(store.sessions().findSession("ses-checked").orElseThrow().usesRemaining()).isEqualTo(1);
    assertThat(store.sessions().findSession("ses-quota-2").orElseThrow().usesRemaining()).isEqualTo(1);
    assertThat(store.sessions().countRedemptions(TENANT, "2026-01")).isEqualTo(1);
  }

  private CompletableFuture<Redemption> redeemLater(Session session, RedeemCheck check, Instant now, QuotaCharge quota) {
    return store.sessions().redeemSessionUse(session.id(), session.tokenHash(), check, now, quota);
  }

  @Test
  void insertTenant_afterClose_throwsStoreUnavailable() {
    store.close();

    assertThatThrownBy(() -> store.tenants().insertTenant(tenant("acme"))).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void findTenant_afterClose_throwsStoreUnavailable() {
    store.tenants().insertTenant(tenant("acme"));
    store.close();

    assertThatThrownBy(() -> store.tenants().findTenant("acme")).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void isServing_openThenClosed_isTrueThenFalse() {
    assertThat(store.kind()).isEqualTo(StoreKind.SQLITE);
    assertThat(store.isServing()).isTrue();

    store.close();

    assertThat(store.isServing()).isFalse();
  }

  @Test
  void close_leavesTheDatabaseWhole_inOneFile() throws Exception {
    store.tenants().insertTenant(tenant("acme"));
    store.close();

    Path db = dataDir.resolve(SqliteStores.FILE_NAME);
    assertThat(dataDir.resolve(SqliteStores.FILE_NAME + "-wal")).doesNotExist();
    // The file alone, copied elsewhere as a backup is, holds the data.
    Path copy = Files.createDirectories(dataDir.resolve("backup")).resolve(SqliteStores.FILE_NAME);
    Files.copy(db, copy);
    try (Store restored = SqliteStores.open(copy.getParent(), TIMEOUT)) {
      assertThat(restored.tenants().findTenant("acme")).isPresent();
    }
  }

  @Test
  void open_aLogWithoutItsDatabase_isRefused_insteadOfReplayedOntoANewFile() throws Exception {
    store.tenants().insertTenant(tenant("acme"));
    Path wal = dataDir.resolve(SqliteStores.FILE_NAME + "-wal");
    byte[] log = Files.readAllBytes(wal); // as a kill -9 leaves it
    store.close();
    Files.delete(dataDir.resolve(SqliteStores.FILE_NAME));
    Files.write(wal, log);

    assertThatThrownBy(() -> SqliteStores.open(dataDir, TIMEOUT))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("without " + SqliteStores.FILE_NAME)
        .hasMessageContaining("Restore it");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-wal"})
  void theDatabaseOrItsLogDeletedWhileOpen_stopsServing_andRefusesEveryCall(String suffix) throws Exception {
    store.tenants().insertTenant(tenant("acme"));
    assertThat(store.isServing()).isTrue();

    Files.delete(dataDir.resolve(SqliteStores.FILE_NAME + suffix));

    assertThat(store.isServing()).isFalse();
    assertThatThrownBy(() -> store.tenants().insertTenant(tenant("later")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("was deleted or replaced while the server ran");
    assertThatThrownBy(() -> store.tenants().findTenant("acme")).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void theLockFileRemovedWhileOpen_isTakenAgain_soASecondProcessIsStillRefused() throws Exception {
    Path lock = dataDir.resolve(DataDirLock.FILE_NAME);
    Files.delete(lock);

    assertThat(store.isServing()).isTrue();

    assertThat(lock).exists();
    assertThatThrownBy(() -> SqliteStores.open(dataDir, TIMEOUT))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("in use by another token-authority process");
  }

  @Test
  void aWriterStuckPastTheTimeout_isNotServing_untilItCommitsAgain() throws Exception {
    SqliteDatabase db = SqliteDatabase.open(dataDir.resolve("stuck").resolve(SqliteStores.FILE_NAME), Duration.ofMillis(300));
    try (Store stuck = new JdbcStore(StoreKind.SQLITE, db)) {
      CountDownLatch release = WriterHold.hold(db); // a frozen disk, as the writer sees it
      CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> stuck.tenants().insertTenant(tenant("waiting")));
      Thread.sleep(800);

      assertThat(stuck.isServing()).as("a write has waited past the timeout").isFalse();

      release.countDown();
      assertThatThrownBy(waiting::join).hasCauseInstanceOf(StoreUnavailableException.class);
      assertThat(stuck.tenants().insertTenant(tenant("after"))).isTrue();
      assertThat(stuck.isServing()).as("the writer commits again").isTrue();
    }
  }

  @Test
  void close_whileAReaderOutsideTheServerHoldsASnapshot_doesNotWaitForIt() throws Exception {
    Path file = dataDir.resolve("outside").resolve(SqliteStores.FILE_NAME);
    SqliteDatabase db = SqliteDatabase.open(file, Duration.ofSeconds(30));
    Store busy = new JdbcStore(StoreKind.SQLITE, db);
    busy.tenants().insertTenant(tenant("a"));
    try (java.sql.Connection backup = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file)) {
      backup.setAutoCommit(false);
      try (java.sql.Statement st = backup.createStatement(); java.sql.ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM tenants")) {
        rs.next(); // a read transaction open, as sqlite3's .backup holds one
        busy.tenants().insertTenant(tenant("b"));
        long start = System.nanoTime();
        busy.close();
        // Not the 30 s busy timeout a TRUNCATE checkpoint waits for such a reader.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      }
    }
  }

  @Test
  void theLockCheckedAfterClose_takesNothing() throws Exception {
    Path dir = Files.createDirectories(dataDir.resolve("closed"));
    DataDirLock lock = DataDirLock.acquire(dir);
    lock.close();
    Files.delete(dir.resolve(DataDirLock.FILE_NAME));

    assertThat(lock.recheck()).isNull();

    try (Store next = SqliteStores.open(dir, TIMEOUT)) {
      assertThat(next.isServing()).as("the directory is free for the next store").isTrue();
    }
  }

  @Test
  void aDatabaseThatIsASymbolicLink_hasItsLogWatchedBesideTheTarget() throws Exception {
    Path real = Files.createDirectories(dataDir.resolve("real"));
    Path data = Files.createDirectories(dataDir.resolve("linked"));
    try (Store made = SqliteStores.open(real, TIMEOUT)) {
      made.tenants().insertTenant(tenant("x"));
    }
    Files.createSymbolicLink(data.resolve(SqliteStores.FILE_NAME), real.resolve(SqliteStores.FILE_NAME));
    try (Store linked = SqliteStores.open(data, TIMEOUT)) {
      linked.tenants().insertTenant(tenant("y"));
      assertThat(linked.isServing()).isTrue();

      Files.delete(real.resolve(SqliteStores.FILE_NAME + "-wal"));

      assertThat(linked.isServing()).as("the log beside the target was deleted").isFalse();
    }
  }

  @Test
  void open_anEmptyDatabaseFile_isRefused_notSetUpAsANewStore() throws Exception {
    Path dir = Files.createDirectories(dataDir.resolve("emptied"));
    Files.createFile(dir.resolve(SqliteStores.FILE_NAME)); // a restore that copied nothing

    assertThatThrownBy(() -> SqliteStores.open(dir, TIMEOUT))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("is empty (0 bytes)");
    assertThat(Files.size(dir.resolve(SqliteStores.FILE_NAME))).as("left as found").isZero();
  }
}
