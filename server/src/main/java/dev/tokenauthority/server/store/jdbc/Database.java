package dev.tokenauthority.server.store.jdbc;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;

/**
 * How {@link JdbcStore} reaches its database: reads on any connection, writes in a committed
 * transaction. Implementations decide pooling and batching (SQLite: one writer thread that
 * commits concurrent writes together) and turn connection failures into
 * {@link dev.tokenauthority.server.error.StoreUnavailableException}.
 */
public interface Database extends AutoCloseable {
  /** Runs read-only work on a connection and returns its result. */
  <T> T read(Work<T> work);

  /**
   * Runs work in a transaction and returns its result once the transaction is committed.
   * The work may be run again after a rollback, so it must have no effect outside SQL.
   */
  <T> T write(Work<T> work);

  /**
   * Like {@link #write} but returns at once: the future completes once the transaction is
   * committed (or fails with a {@link dev.tokenauthority.server.error.StoreUnavailableException}),
   * so that the caller's thread need not wait. Implementations that cannot do better may
   * simply run {@link #write}.
   */
  default <T> CompletableFuture<T> writeAsync(Work<T> work) {
    try {
      return CompletableFuture.completedFuture(write(work));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * {@link #writeAsync} for work that is a single statement, atomic on its own: a database
   * that can run it without an explicit transaction may, saving the COMMIT round trip.
   */
  default <T> CompletableFuture<T> writeStatementAsync(Work<T> work) {
    return writeAsync(work);
  }

  /**
   * Inside a {@link #write}, takes a lock held until the transaction ends, that one process at
   * a time can hold (PostgreSQL: an advisory lock); false when another holds it. A database
   * that only one process opens (SQLite) always grants it.
   */
  default boolean tryExclusiveLock(Statements statements, long lockId) throws SQLException {
    return true;
  }

  /** Whether the database answered recently. */
  boolean isServing();

  @Override
  void close();

  /** A unit of SQL work. */
  @FunctionalInterface
  interface Work<T> {
    T run(Statements statements) throws SQLException;
  }

  /** Prepared statements of one connection, cached where the implementation can. */
  interface Statements {
    PreparedStatement prepare(String sql) throws SQLException;
  }
}
