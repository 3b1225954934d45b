package dev.tokenauthority.server.store.sqlite;

import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.jdbc.Database;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SQLite file in WAL mode with {@code synchronous=FULL}. Writes go to a single writer
 * thread that commits every write waiting at that moment in one transaction (group commit):
 * each caller still returns only after its own write is durable, but N concurrent writes
 * cost one fsync instead of N. Reads run in parallel on a small pool of read-only
 * connections, each with its prepared statements cached (a pool such as HikariCP does not
 * cache statements for SQLite, and preparing dominates a point read).
 */
public final class SqliteDatabase implements Database {
  private static final Logger log = LoggerFactory.getLogger(SqliteDatabase.class);
  private static final int MAX_BATCH = 512;
  private static final int READERS = 4;
  /** Writes waiting at most; beyond this a write is refused at once rather than queued. */
  private static final int MAX_QUEUED_WRITES = 20_000;
  /** How often a store that is not serving tries a write of its own to find out it can again. */
  private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int SQLITE_IOERR = 10;
  private static final int SQLITE_BUSY = 5;

  private final Path file;
  private final Duration timeout;
  /** Held while open: one process per data dir. */
  private final DataDirLock lock;
  /** Applied to every connection the store uses for calls: the identity, except in fault tests. */
  private final UnaryOperator<Connection> wrap;
  private final BlockingQueue<PendingWrite<?>> writes = new LinkedBlockingQueue<>(MAX_QUEUED_WRITES);
  private final BlockingQueue<CachedConnection> readers = new ArrayBlockingQueue<>(READERS);
  /**
   * The writer's connection, used by the writer thread only. Replaced after a failure other than
   * a constraint violation, and null while it cannot be reopened (see {@link #replaceWriter}).
   */
  private CachedConnection writer;
  /** When the writer last tried a write while not serving, to learn when the disk has room again. */
  private long lastProbeNanos;
  private final Thread writerThread;
  private final ExecutorService acknowledgements =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "sqlite-acks");
            t.setDaemon(true);
            return t;
          });
  private volatile boolean closed;
  private volatile boolean serving = true;
  /** Set once the store's files or its data dir lock were lost under it: every call is refused. */
  private volatile String lost;
  private final StoreFiles files;

  private static final class CachedConnection implements Statements {
    final Connection connection;
    final Map<String, PreparedStatement> statements = new HashMap<>();

    CachedConnection(Connection connection) {
      this.connection = connection;
    }

    @Override
    public PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement ps = statements.get(sql);
      if (ps == null) {
        ps = connection.prepareStatement(sql);
        statements.put(sql, ps);
      }
      return ps;
    }

    void close() {
      try {
        connection.close();
      } catch (SQLException e) {
        log.warn("closing a SQLite connection failed: {}", e.getMessage());
      }
    }
  }

  /**
   * One queued write. It is either claimed by the writer or abandoned by its caller's time
   * limit, never both: a write whose caller was told "unavailable" is never committed later,
   * and a write the writer has started is always answered with its real outcome.
   */
  private static final class PendingWrite<T> {
    private static final int QUEUED = 0;
    private static final int CLAIMED = 1;
    private static final int ABANDONED = 2;

    final Work<T> work;
    /** Completed off the writer thread, because its callbacks send responses. */
    final boolean async;
    final CompletableFuture<T> done = new CompletableFuture<>();
    final long enqueuedNanos = System.nanoTime();
    private final java.util.concurrent.atomic.AtomicInteger state = new java.util.concurrent.atomic.AtomicInteger(QUEUED);
    T result;

    PendingWrite(Work<T> work, boolean async) {
      this.work = work;
      this.async = async;
    }

    /** The writer takes the write; false when its caller has given up on it. */
    boolean claim() {
      return state.compareAndSet(QUEUED, CLAIMED);
    }

    /** The caller gives up; false when the writer already has it (its outcome will come). */
    boolean abandon() {
      return state.compareAndSet(QUEUED, ABANDONED);
    }

    /** Gives up on a write that waited longer than {@code limitNanos}; true if it did. */
    boolean abandonIfOlderThan(long limitNanos, long nowNanos) {
      if (nowNanos - enqueuedNanos > limitNanos && abandon()) {
        done.completeExceptionally(new TimeoutException());
        return true;
      }
      return false;
    }

    void run(Statements statements) throws SQLException {
      result = work.run(statements);
    }

    @SuppressWarnings("unchecked")
    void setResult(Object value) {
      result = (T) value;
    }

    void complete() {
      done.complete(result);
    }
  }

  private SqliteDatabase(Path file, Duration timeout, DataDirLock lock, UnaryOperator<Connection> wrap) throws SQLException {
    this.file = file;
    this.timeout = timeout;
    this.lock = lock;
    this.wrap = wrap;
    this.writer = openWriter();
    this.files = StoreFiles.of(file);
    for (int i = 0; i < READERS; i++) {
      readers.add(new CachedConnection(open(true)));
    }
    this.writerThread = new Thread(this::writeLoop, "sqlite-writer");
    writerThread.setDaemon(true);
    writerThread.start();
    Thread watchdog = new Thread(this::watchQueue, "sqlite-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /**
   * Opens (creating if needed, with owner-only permissions) the database file and brings its
   * schema up to date.
   *
   * @param timeout how long a call may wait for the database before it fails as unavailable
   */
  public static SqliteDatabase open(Path file, Duration timeout) {
    return open(file, timeout, UnaryOperator.identity());
  }

  /** {@link #open(Path, Duration)} with every call's connection passed through {@code wrap} (fault tests). */
  static SqliteDatabase open(Path file, Duration timeout, UnaryOperator<Connection> wrap) {
    DataDirLock lock = SqliteFile.prepare(file, timeout);
    try {
      return new SqliteDatabase(file, timeout, lock, wrap);
    } catch (SQLException | RuntimeException e) {
      lock.close();
      throw SqliteFile.openFailure(file, e);
    }
  }

  private Connection open(boolean readOnly) throws SQLException {
    return wrap.apply(SqliteFile.connect(file, timeout, readOnly));
  }

  @Override
  public void scrubErased() {
    // On a connection of its own, outside the writer's transactions: TRUNCATE waits (up to the
    // busy timeout) for the writer's and readers' current transactions, copies every page of the
    // log into the database file, then empties the log.
    try (Connection c = SqliteFile.connect(file, timeout, false);
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
      if (rs.next() && rs.getInt(1) != 0) {
        log.info("the checkpoint after erasing a secret was busy; the next checkpoint folds the log into the database");
      }
    } catch (SQLException e) {
      log.warn("the checkpoint after erasing a secret failed ({}); the next checkpoint folds the log into the database",
          e.getMessage());
    }
  }

  private CachedConnection openWriter() throws SQLException {
    CachedConnection c = new CachedConnection(open(false));
    c.connection.setAutoCommit(false);
    return c;
  }

  @Override
  public <T> T read(Work<T> work) {
    refuseIfLost();
    CachedConnection reader;
    try {
      reader = closed ? null : readers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while waiting for the store", e);
    }
    if (reader == null) {
      throw new StoreUnavailableException("the store is closed or busy", null);
    }
    try {
      return work.run(reader);
    } catch (SQLException e) {
      throw new StoreUnavailableException("a store read failed: " + e.getMessage(), e);
    } finally {
      readers.add(reader);
    }
  }

  @Override
  public <T> T write(Work<T> work) {
    if (closed) {
      throw new StoreUnavailableException("the store is closed", null);
    }
    // A synchronous write is completed by the writer itself, never by the acknowledgement
    // thread: that thread runs response callbacks, which must not be able to hold up a waiter.
    PendingWrite<T> pending = new PendingWrite<>(work, false);
    enqueue(pending);
    try {
      try {
        return pending.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        if (pending.abandon()) {
          throw translate(e);
        }
        // The writer is committing it right now: its real outcome is moments away.
        return pending.done.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while waiting for the store", e);
    } catch (ExecutionException e) {
      throw translate(e.getCause());
    }
  }

  private void enqueue(PendingWrite<?> pending) {
    refuseIfLost();
    if (!writes.offer(pending)) {
      throw new StoreUnavailableException("the store has " + MAX_QUEUED_WRITES + " writes waiting already", null);
    }
  }

  @Override
  public <T> CompletableFuture<T> writeAsync(Work<T> work) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreUnavailableException("the store is closed", null));
    }
    PendingWrite<T> pending = new PendingWrite<>(work, true);
    try {
      enqueue(pending);
    } catch (StoreUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
    // The time limit covers waiting in the queue only (checked by the writer as it drains, and
    // by the watchdog when the writer is stuck); once claimed, the outcome is the commit's.
    CompletableFuture<T> result = new CompletableFuture<>();
    pending.done
        .whenComplete(
            (value, failure) -> {
              if (failure == null) {
                result.complete(value);
              } else {
                result.completeExceptionally(translate(failure));
              }
            });
    return result;
  }

  /**
   * The items of one kind of {@link #writerGroup} that fall into one transaction run as one
   * {@code many}, at the first one's turn (see {@link #runAll}).
   */
  @Override
  public <I, R> Batch<I, R> writerGroup(ItemWork<I, R> one, BatchWork<I, R> many) {
    WriterGroup<I, R> group = new WriterGroup<>(many);
    return item -> writeAsync(new GroupItem<>(group, one, item));
  }

  /** One kind of {@link #writerGroup}: what runs its items together. */
  private record WriterGroup<I, R>(BatchWork<I, R> many) {
    @SuppressWarnings("unchecked")
    void runTogether(Statements statements, List<PendingWrite<?>> members) throws SQLException {
      List<I> items = new ArrayList<>(members.size());
      for (PendingWrite<?> member : members) {
        items.add(((GroupItem<I, R>) member.work).item());
      }
      List<R> results = many.run(statements, items);
      if (results.size() != items.size()) {
        throw new IllegalStateException("a writer group returned " + results.size() + " results for " + items.size() + " items");
      }
      for (int i = 0; i < members.size(); i++) {
        members.get(i).setResult(results.get(i));
      }
    }
  }

  /** An item of a {@link #writerGroup}: run alone as {@code one}. */
  private record GroupItem<I, R>(WriterGroup<I, R> group, ItemWork<I, R> one, I item) implements Work<R> {
    @Override
    public R run(Statements statements) throws SQLException {
      return one.run(statements, item);
    }
  }

  /**
   * Runs a transaction's writes in order, except that the items of one {@link #writerGroup} run
   * together at the first one's turn.
   */
  /**
   * Runs the batch on the writer. When another connection has the database (the checkpoint that
   * follows an erasure, {@link #scrubErased}; an operator's sqlite3), SQLite refuses the writer's
   * transaction at once with SQLITE_BUSY where waiting could deadlock (its snapshot went stale):
   * the batch is then rolled back and run again on a fresh snapshot, until the write timeout.
   */
  private void runAllWaitingForOthers(List<PendingWrite<?>> batch) throws SQLException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        runAll(batch, writer);
        return;
      } catch (SQLException e) {
        if ((e.getErrorCode() & 0xff) != SQLITE_BUSY || System.nanoTime() - deadline > 0 || !rollback()) {
          throw e;
        }
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SQLException("interrupted while another connection had the database", e);
      }
    }
  }

  private static void runAll(List<PendingWrite<?>> batch, Statements statements) throws SQLException {
    boolean[] ran = new boolean[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      if (ran[i]) {
        continue;
      }
      PendingWrite<?> p = batch.get(i);
      if (!(p.work instanceof GroupItem<?, ?> first)) {
        p.run(statements);
        continue;
      }
      List<PendingWrite<?>> members = new ArrayList<>();
      for (int j = i; j < batch.size(); j++) {
        if (batch.get(j).work instanceof GroupItem<?, ?> g && g.group() == first.group()) {
          members.add(batch.get(j));
          ran[j] = true;
        }
      }
      if (members.size() == 1) {
        p.run(statements);
      } else {
        first.group().runTogether(statements, members);
      }
    }
  }

  /**
   * True: a reader connection empties its page cache whenever the writer has committed since its
   * last read, which under load is every read, so each lookup there fetches the table's pages
   * again; the writer's cache keeps them, and a read inside the write costs no turn of its own.
   */
  @Override
  public boolean writesThroughOneConnection() {
    return true;
  }

  private RuntimeException translate(Throwable failure) {
    Throwable cause = Completions.unwrap(failure);
    if (cause instanceof TimeoutException) {
      return new StoreUnavailableException("the store did not commit within " + timeout.toMillis() + " ms", cause);
    }
    if (cause instanceof RuntimeException re && !(cause instanceof StoreUnavailableException)) {
      return re;
    }
    if (cause instanceof StoreUnavailableException su) {
      return su;
    }
    return new StoreUnavailableException("a store write failed: " + cause.getMessage(), cause);
  }

  /**
   * Fails asynchronous writes that waited past the time limit while the writer was stuck (a
   * hung disk, say). Normally the writer itself drops them as it drains, and this only peeks at
   * the head of the queue ten times a second.
   */
  private void watchQueue() {
    long limit = timeout.toNanos();
    while (!closed) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
      PendingWrite<?> head = writes.peek();
      long now = System.nanoTime();
      if (head != null && now - head.enqueuedNanos > limit) {
        if (serving) {
          // The writer is stuck (a frozen or hung disk): health says so until it commits again.
          serving = false;
          log.warn("the SQLite writer has taken no write for {} ms (a stuck disk?); not serving until it commits again",
              timeout.toMillis());
        }
        for (PendingWrite<?> p : writes) {
          p.abandonIfOlderThan(limit, now);
        }
      }
    }
  }

  private void writeLoop() {
    List<PendingWrite<?>> batch = new ArrayList<>(MAX_BATCH);
    while (!closed || !writes.isEmpty()) {
      try {
        PendingWrite<?> first = writes.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          probeIfNotServing();
          continue;
        }
        batch.add(first);
        writes.drainTo(batch, MAX_BATCH - 1);
        long now = System.nanoTime();
        batch.removeIf(p -> p.abandonIfOlderThan(timeout.toNanos(), now) || !p.claim());
        if (!batch.isEmpty()) {
          acknowledge(commit(batch));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Throwable e) {
        // Whatever happened, the writer lives on: fail this batch and go on with the next.
        log.error("the SQLite writer failed a batch", e);
        if (!rollback()) {
          replaceWriter();
        }
        batch.forEach(p -> p.done.completeExceptionally(e));
      } finally {
        batch.clear();
      }
    }
  }

  /**
   * Runs a batch in one transaction; if any write fails, the batch is rolled back and each write
   * runs alone, to isolate it. Synchronous writes are completed here. A write that fails was not
   * committed, with one exception: an I/O error during the commit itself (the commit may be on
   * disk and found by recovery after a crash), reported as {@link StoreUnavailableException#commitUnknown}.
   *
   * @return the committed asynchronous writes, to be acknowledged by the caller
   */
  private List<PendingWrite<?>> commit(List<PendingWrite<?>> batch) {
    try {
      if (writer == null) {
        writer = openWriter();
      }
      runAllWaitingForOthers(batch);
    } catch (SQLException | RuntimeException e) {
      return failed(batch, e);
    }
    try {
      writer.connection.commit();
    } catch (SQLException e) {
      if (e.getErrorCode() == SQLITE_IOERR) {
        replaceWriter();
        serving = false;
        StoreUnavailableException unknown =
            StoreUnavailableException.commitUnknown("the SQLite commit failed with an I/O error: " + e.getMessage(), e);
        batch.forEach(p -> p.done.completeExceptionally(unknown));
        return List.of();
      }
      // Anything else (SQLITE_FULL: the commit record could not be written) left nothing committed.
      return failed(batch, e);
    }
    if (!serving) {
      serving = true;
      log.info("the SQLite store writes again");
    }
    // Acknowledge on another thread: the callers' responses are sent from there, and the
    // writer goes straight back to committing the next group.
    List<PendingWrite<?>> async = new ArrayList<>(batch.size());
    for (PendingWrite<?> p : batch) {
      if (p.async) {
        async.add(p);
      } else {
        p.complete();
      }
    }
    return async;
  }

  /** A batch that did not commit: roll back (or replace the connection), then fail or isolate its writes. */
  private List<PendingWrite<?>> failed(List<PendingWrite<?>> batch, Exception e) {
    boolean constraint = e instanceof SQLException sql && isConstraintViolation(sql);
    if (e instanceof SQLException && !constraint) {
      // SQLITE_FULL, an I/O error, a damaged page: SQLite may have rolled the transaction back
      // by itself, leaving the JDBC connection believing it is in one, and every later statement
      // would then commit on its own. A new connection is the only state that is certain.
      replaceWriter();
    } else if (!rollback()) {
      replaceWriter();
    }
    if (batch.size() == 1) {
      serving = !(e instanceof SQLException) || constraint;
      batch.get(0).done.completeExceptionally(e);
      return List.of();
    }
    List<PendingWrite<?>> committed = new ArrayList<>();
    for (PendingWrite<?> p : batch) {
      committed.addAll(commit(List.of(p)));
    }
    return committed;
  }

  /**
   * Closes the writer's connection and opens a new one (left null if that fails too: the next
   * write or probe tries again).
   */
  private void replaceWriter() {
    if (writer != null) {
      writer.close();
      writer = null;
    }
    try {
      writer = openWriter();
    } catch (SQLException e) {
      log.warn("reopening the SQLite writer connection failed, trying again with the next write: {}", e.getMessage());
    }
  }

  /**
   * While not serving and idle, writes the database header back unchanged once a second: when
   * it commits, the disk has room (or works) again and the store reports SERVING without
   * waiting for a caller to risk a write. Health checks rely on this to come back.
   */
  private void probeIfNotServing() {
    long now = System.nanoTime();
    if (serving || closed || now - lastProbeNanos < PROBE_INTERVAL_NANOS) {
      return;
    }
    lastProbeNanos = now;
    try {
      if (writer == null) {
        writer = openWriter();
      }
      int version;
      try (java.sql.ResultSet rs = writer.prepare("PRAGMA user_version").executeQuery()) {
        rs.next();
        version = rs.getInt(1);
      }
      try (java.sql.Statement st = writer.connection.createStatement()) {
        st.executeUpdate("PRAGMA user_version = " + version);
      }
      writer.connection.commit();
      serving = true;
      log.info("the SQLite store writes again");
    } catch (SQLException e) {
      log.debug("the SQLite store still cannot write: {}", e.getMessage());
      replaceWriter();
    }
  }

  /** Completes committed asynchronous writes on the acknowledgement thread (never re-runs them). */
  private void acknowledge(List<PendingWrite<?>> committed) {
    if (committed.isEmpty()) {
      return;
    }
    try {
      acknowledgements.execute(() -> committed.forEach(PendingWrite::complete));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Shutting down: they are committed, so answer them from here.
      committed.forEach(PendingWrite::complete);
    }
  }

  private static boolean isConstraintViolation(SQLException e) {
    return e.getMessage() != null && e.getMessage().contains("SQLITE_CONSTRAINT");
  }

  /** Rolls the writer's transaction back; false when that failed (the connection is then suspect). */
  private boolean rollback() {
    if (writer == null) {
      return true;
    }
    try {
      writer.connection.rollback();
      return true;
    } catch (SQLException e) {
      log.warn("SQLite rollback failed: {}", e.getMessage());
      return false;
    }
  }

  private void refuseIfLost() {
    String problem = lost;
    if (problem != null) {
      throw new StoreUnavailableException(problem + "; restart the server", null);
    }
  }

  /**
   * Whether the store serves; called every second by the server, which is when its files and its
   * data dir lock are checked: lost under it, it refuses every call until a restart.
   */
  @Override
  public boolean isServing() {
    // Not when the server is stopping its watch thread: an interrupt cuts the lock's file
    // operations short, which is no lost lock.
    if (lost == null && !closed && !Thread.currentThread().isInterrupted()) {
      String problem = files.problem();
      if (problem == null) {
        problem = lock.recheck();
      }
      if (problem != null) {
        lost = problem;
        log.error("{}; the store refuses every call until the server restarts", problem);
      }
    }
    return lost == null && serving && !closed && writerThread.isAlive();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    // Wake the writer at once (rather than at its next poll) so that it drains and exits.
    writes.add(new PendingWrite<Void>(statements -> null, false));
    try {
      writerThread.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writerThread.isAlive()) {
      // Never close the connection under a live writer; the process is ending anyway.
      log.warn("the SQLite writer did not finish within {} ms; leaving its connection open", timeout.toMillis());
      return;
    }
    acknowledgements.shutdown();
    // Readers first, the writer last: the last connection to close folds the log into the
    // database file and removes it, and a read-only one cannot. So a stopped store is one file.
    List<CachedConnection> all = new ArrayList<>();
    readers.drainTo(all);
    all.forEach(CachedConnection::close);
    if (writer != null) {
      // PASSIVE never waits: a reader outside the server (sqlite3's .backup) must not hold up a
      // shutdown. Without one, the writer's close, the last, folds the rest and removes the log.
      try (java.sql.Statement st = writer.connection.createStatement()) {
        st.execute("PRAGMA wal_checkpoint(PASSIVE)");
      } catch (SQLException e) {
        log.debug("the closing checkpoint failed: {}", e.getMessage());
      }
      writer.close();
    }
    lock.close();
  }
}
