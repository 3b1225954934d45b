package dev.tokenauthority.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.jdbc.Database;
import dev.tokenauthority.server.testing.WriterHold;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite writer's promises: a write its caller gave up on never commits, and a writer group's
 * items in one transaction run together, or each alone when that fails.
 */
class SqliteDatabaseTest {
  @TempDir Path dir;
  private SqliteDatabase db;

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void writeAsync_timedOutWhileQueued_isNeverCommittedLater() throws Exception {
    db = SqliteDatabase.open(dir.resolve("t.db"), Duration.ofMillis(500));
    CountDownLatch writerBusy = new CountDownLatch(1);
    // Occupy the writer for longer than the time limit.
    CompletableFuture<Object> slow =
        db.writeAsync(
            s -> {
              writerBusy.countDown();
              sleep(1500);
              return null;
            });
    assertThat(writerBusy.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

    CompletableFuture<Integer> queued =
        db.writeAsync(
            s -> {
              var ps = s.prepare("INSERT INTO signing_keys (kid, private_key, public_key, create_time) VALUES ('late', x'00', x'00', 0)");
              return ps.executeUpdate();
            });

    assertThatThrownBy(queued::join).isInstanceOf(CompletionException.class).hasCauseInstanceOf(StoreUnavailableException.class);
    slow.join();
    db.write(s -> null); // one more commit after the abandoned write's turn
    int rows =
        db.read(
            s -> {
              try (ResultSet rs = s.prepare("SELECT COUNT(*) FROM signing_keys WHERE kid = 'late'").executeQuery()) {
                rs.next();
                return rs.getInt(1);
              }
            });
    assertThat(rows).isZero();
  }

  @Test
  void write_claimedByTheWriter_returnsItsRealOutcomeEvenPastTheTimeLimit() {
    db = SqliteDatabase.open(dir.resolve("t.db"), Duration.ofMillis(300));

    Integer result =
        db.write(
            s -> {
              sleep(1000);
              return s.prepare("INSERT INTO signing_keys (kid, private_key, public_key, create_time) VALUES ('slow', x'00', x'00', 0)")
                  .executeUpdate();
            });

    assertThat(result).isEqualTo(1);
  }

  @Test
  void writerGroup_itemsInOneTransaction_runTogetherInOrder_andAloneAsOne() throws Exception {
    db = SqliteDatabase.open(dir.resolve("t.db"), Duration.ofSeconds(5));
    List<List<String>> together = new CopyOnWriteArrayList<>();
    Database.Batch<String, String> group =
        db.writerGroup(
            (s, item) -> "one:" + item,
            (s, items) -> {
              together.add(List.copyOf(items));
              return items.stream().map(item -> "many:" + item).toList();
            });
    CountDownLatch release = WriterHold.hold(db);
    // Queued behind the blocker, so the writer takes them in one transaction, a plain write between them.
    CompletableFuture<String> a = group.submit("a");
    CompletableFuture<Integer> between = db.writeAsync(s -> 7);
    CompletableFuture<String> b = group.submit("b");
    CompletableFuture<String> c = group.submit("c");
    release.countDown();

    assertThat(List.of(a.join(), b.join(), c.join())).containsExactly("many:a", "many:b", "many:c");
    assertThat(between.join()).isEqualTo(7);
    assertThat(together).containsExactly(List.of("a", "b", "c"));
    assertThat(group.submit("d").join()).isEqualTo("one:d");
  }

  @Test
  void writerGroup_whoseManyFails_runsEachItemAloneAsOne() throws Exception {
    db = SqliteDatabase.open(dir.resolve("t.db"), Duration.ofSeconds(5));
    Database.Batch<String, String> group =
        db.writerGroup(
            (s, item) -> {
              if (item.equals("bad")) {
                throw new IllegalArgumentException("refused: " + item);
              }
              return "one:" + item;
            },
            (s, items) -> {
              throw new IllegalArgumentException("a group with a bad item");
            });
    CountDownLatch release = WriterHold.hold(db);
    CompletableFuture<String> good = group.submit("good");
    CompletableFuture<String> bad = group.submit("bad");
    release.countDown();

    assertThat(good.join()).isEqualTo("one:good");
    assertThatThrownBy(bad::join).hasCauseInstanceOf(IllegalArgumentException.class).hasMessageContaining("refused: bad");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
