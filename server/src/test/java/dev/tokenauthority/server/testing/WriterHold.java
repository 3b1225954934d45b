package dev.tokenauthority.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.store.sqlite.SqliteDatabase;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a SQLite store's writer busy in a write of its own, so that the writes submitted
 * meanwhile queue behind it and, once it is let go, fall into one transaction.
 */
public final class WriterHold {
  private WriterHold() {}

  /** Holds {@code db}'s writer until the latch returned is counted down. */
  public static CountDownLatch hold(SqliteDatabase db) throws InterruptedException {
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    db.writeAsync(
        s -> {
          busy.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return null;
        });
    assertThat(busy.await(5, TimeUnit.SECONDS)).isTrue();
    return release;
  }
}
