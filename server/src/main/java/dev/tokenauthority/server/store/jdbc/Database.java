package dev.tokenauthority.server.store.jdbc;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
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
   * {@link #writeStatementAsync} for a statement whose effect a crash of the database may undo
   * after it was acknowledged (PostgreSQL: committed without waiting for its WAL flush), for
   * state where losing the last fraction of a second is acceptable, such as rate-limit buckets.
   * It is still atomic and at once visible to every other connection.
   */
  default <T> CompletableFuture<T> writeUnflushedStatementAsync(Work<T> work) {
    return writeStatementAsync(work);
  }

  /**
   * A kind of write that concurrent calls may share: each call submits one item, and a database
   * that groups writes (PostgreSQL) runs the items waiting at that moment together in one
   * transaction, {@code many}, with a round trip and a commit for all of them; each call's
   * future gets its own result. An item alone, and every item on a database that does not
   * group, runs as {@code one}. {@code many} may use PostgreSQL's SQL (arrays), must return one
   * result per item, in order, and may be run again on each item alone (as {@code one}) after
   * it failed and was rolled back.
   *
   * @param oneIsSingleStatement {@code one} is atomic without a transaction (run as
   *     {@link #writeStatementAsync}); otherwise as {@link #writeAsync}
   */
  default <I, R> Batch<I, R> batch(boolean oneIsSingleStatement, ItemWork<I, R> one, BatchWork<I, R> many) {
    return item -> oneIsSingleStatement ? writeStatementAsync(s -> one.run(s, item)) : writeAsync(s -> one.run(s, item));
  }

  /**
   * A {@link #batch} of state committed as {@link #writeUnflushedStatementAsync} commits it
   * (rate-limit buckets): a database that groups runs the items waiting at that moment with
   * {@code many}, one group of this kind at a time so that groups never wait on each other's row
   * locks. {@code many} commits each of its statements on its own and must leave every item
   * either done or untouched when it throws: the items are then run again alone, except those a
   * {@link PartlyDoneException} it throws names as done, which get the result it carries.
   */
  default <I, R> Batch<I, R> unflushedBatch(ItemWork<I, R> one, BatchWork<I, R> many) {
    return item -> writeUnflushedStatementAsync(s -> one.run(s, item));
  }

  /**
   * A kind of write that a database with one writer ({@link #writesThroughOneConnection}) runs
   * together when several of its items fall into one of its transactions: {@code many}, at the
   * first item's turn, returning one result per item in order. An item alone, and every item on
   * a database without one writer, runs as {@code one}. {@code many} may use SQLite's SQL, and
   * may be run again on each item alone (as {@code one}) after it failed and was rolled back.
   */
  default <I, R> Batch<I, R> writerGroup(ItemWork<I, R> one, BatchWork<I, R> many) {
    return item -> writeAsync(s -> one.run(s, item));
  }

  /**
   * A kind of read that concurrent calls may share, as {@link #batch} does for writes: a
   * database that groups (PostgreSQL) answers the items waiting at that moment with one
   * statement, {@code many}, and none of them holds the caller's thread; others answer each
   * item with {@code one} at once.
   */
  default <I, R> Batch<I, R> readBatch(ItemWork<I, R> one, BatchWork<I, R> many) {
    return item -> {
      try {
        return CompletableFuture.completedFuture(read(s -> one.run(s, item)));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    };
  }

  /**
   * Whether every write goes through one connection, one transaction at a time (SQLite's writer).
   * Then a read whose rows are then written costs least as part of the write (the writer's pages
   * are hot, while a reader's cache is emptied by each commit), and so does a second row the
   * write changes (no other transaction can be waiting on its lock); otherwise (PostgreSQL) each
   * is a {@link #readBatch} or a {@link #batch} apart, grouped across concurrent calls.
   */
  default boolean writesThroughOneConnection() {
    return false;
  }

  /**
   * Inside a {@link #write}, takes a lock held until the transaction ends, that one process at
   * a time can hold (PostgreSQL: an advisory lock); false when another holds it. A database
   * that only one process opens (SQLite) always grants it.
   */
  default boolean tryExclusiveLock(Statements statements, long lockId) throws SQLException {
    return true;
  }

  /**
   * After a write that erased a secret (a retired signing key's private half), makes sure no
   * copy of it is left in the database's files where the engine allows: SQLite zeroes what a
   * write frees in the pages it writes ({@code secure_delete=FAST}), and this folds its log,
   * which still holds those pages as they were, into the database file and empties it.
   * PostgreSQL keeps the old row version in its files until vacuum reuses the space (a read-only
   * role or a {@code pg_dump} never sees it; a copy of the files may): nothing to do here.
   */
  default void scrubErased() {}

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

    /** The connection's SQL array of {@code elements} (PostgreSQL), for statements over many rows. */
    default java.sql.Array array(String type, Object[] elements) throws SQLException {
      throw new java.sql.SQLFeatureNotSupportedException("no SQL arrays here");
    }
  }

  /** The work of a {@link #batch} for an item alone. */
  @FunctionalInterface
  interface ItemWork<I, R> {
    R run(Statements statements, I item) throws SQLException;
  }

  /** The work of a {@link #batch} for several items: their writes, one result per item. */
  @FunctionalInterface
  interface BatchWork<I, R> {
    List<R> run(Statements statements, List<I> items) throws SQLException;
  }

  /** Where calls submit their items of one {@link #batch}. */
  @FunctionalInterface
  interface Batch<I, R> {
    /** The future completes with this item's result once it is committed, or fails. */
    CompletableFuture<R> submit(I item);
  }
}
