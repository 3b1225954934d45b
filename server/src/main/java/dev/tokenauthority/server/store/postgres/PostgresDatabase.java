package dev.tokenauthority.server.store.postgres;

import com.google.common.base.Throwables;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.jdbc.MigrationProblems;
import dev.tokenauthority.server.store.jdbc.Database;
import dev.tokenauthority.server.store.jdbc.PartlyDoneException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL through a HikariCP pool. Each write is one transaction on a pooled connection
 * (PostgreSQL itself commits concurrent transactions with one WAL flush); asynchronous writes
 * run on a pool of writer threads as large as the connection pool, so a call never holds a
 * gRPC thread while it waits for a commit.
 *
 * <p>Writes submitted to a {@link #batch} are grouped: while up to {@value #BATCH_RUNNERS}
 * groups of one kind are in flight, newly submitted items wait and then go together, so that
 * under load a round trip and a commit carry many calls' rows instead of one. A lone call goes
 * at once. Unflushed statements ({@link #writeUnflushedStatementAsync}, {@link #unflushedBatch})
 * run on a few separate connections set to {@code synchronous_commit = off}; their groups run
 * one at a time, so that they never wait on each other's row locks.
 *
 * <p>Failures to reach PostgreSQL become {@link StoreUnavailableException}s. Once one is seen,
 * the database counts as down and calls fail at once (never queueing behind a dead server)
 * until the health probe, run every second by the server, reaches it again.
 */
public final class PostgresDatabase implements Database {
  private static final Logger log = LoggerFactory.getLogger(PostgresDatabase.class);
  /** Writes waiting for a writer thread at most; beyond this a write is refused at once. */
  private static final int MAX_QUEUED_WRITES = 20_000;
  /** The pool's connections: enough to keep PostgreSQL's group commit busy on a small machine. */
  static final int DEFAULT_POOL_SIZE = 16;
  /** Connections for unflushed statements: each holds its row locks for microseconds only. */
  static final int UNFLUSHED_POOL_SIZE = 4;
  /** Groups of one kind in flight at once: enough to overlap round trips, few enough to fill them. */
  static final int BATCH_RUNNERS = 4;
  /** The most items one group carries. */
  static final int MAX_BATCH = 256;
  /** SQLSTATE read_only_sql_transaction: a write on a standby or in a read-only session. */
  private static final String READ_ONLY_TRANSACTION = "25006";

  private final HikariDataSource pool;
  private final HikariDataSource unflushedPool;
  /** Applied to every pooled connection a call uses: the identity, except in fault tests. */
  private final UnaryOperator<Connection> wrap;
  private final Duration timeout;
  private final ThreadPoolExecutor writers;
  private volatile boolean serving = true;
  private volatile boolean closed;

  private PostgresDatabase(
      HikariDataSource pool, HikariDataSource unflushedPool, Duration timeout, int poolSize, UnaryOperator<Connection> wrap) {
    this.pool = pool;
    this.unflushedPool = unflushedPool;
    this.wrap = wrap;
    this.timeout = timeout;
    AtomicInteger threads = new AtomicInteger();
    this.writers =
        new ThreadPoolExecutor(
            poolSize,
            poolSize,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED_WRITES),
            r -> {
              Thread t = new Thread(r, "postgres-writer-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Connects, applies the schema migrations shipped in the jar, and returns the database.
   * Replicas starting at once are safe: Flyway migrates under a PostgreSQL advisory lock.
   *
   * @param password used when the URL carries none; may be null
   * @param timeout how long a call may wait for a connection, and the connect timeout
   */
  public static PostgresDatabase open(String url, String password, Duration timeout) {
    return open(url, password, timeout, UnaryOperator.identity());
  }

  /** {@link #open(String, String, Duration)} with every call's connection passed through {@code wrap} (fault tests). */
  static PostgresDatabase open(String url, String password, Duration timeout, UnaryOperator<Connection> wrap) {
    HikariDataSource pool = connect(url, password, timeout, "postgres", DEFAULT_POOL_SIZE, null, true);
    // Migrations run on connections of their own (Flyway takes two), without the statement and socket timeouts: a
    // migration may take minutes on a large table, and a replica waits as long for another's lock.
    try (HikariDataSource migrations = connect(url, password, timeout, "postgres-migrations", 2, null, false)) {
      Flyway.configure()
          .dataSource(migrations)
          .locations("classpath:db/migration/postgresql")
          .load()
          .migrate();
    } catch (RuntimeException e) {
      pool.close();
      throw new StoreUnavailableException(
          "cannot migrate the PostgreSQL schema: " + MigrationProblems.describe(e).orElseGet(() -> Throwables.getRootCause(e).getMessage()), e);
    }
    try (Connection c = pool.getConnection()) {
      if (!writable(c, timeout)) {
        throw new StoreUnavailableException(
            "PostgreSQL accepts no writes here (a hot standby, or a read-only session or database): point the URL at the"
                + " primary; with several hosts, add targetServerType=primary", null);
      }
    } catch (SQLException e) {
      pool.close();
      throw new StoreUnavailableException("cannot read PostgreSQL's state: " + Throwables.getRootCause(e).getMessage(), e);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    HikariDataSource unflushed;
    try {
      // Only this statement's commit skips the wait for its WAL flush; every other write of
      // the store stays durable on acknowledgement.
      unflushed = connect(url, password, timeout, "postgres-unflushed", UNFLUSHED_POOL_SIZE, "SET synchronous_commit = off", true);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    return new PostgresDatabase(pool, unflushed, timeout, DEFAULT_POOL_SIZE, wrap);
  }

  /**
   * A pool of {@code size} connections.
   *
   * @param bounded whether a statement is bounded in time: PostgreSQL cancels one that runs (or
   *     waits for a lock) past {@link #statementTimeoutSql} (SQLSTATE 57014: that call fails, the
   *     connection and the store stay up), and a read that gets no byte for
   *     {@link #socketTimeout} (a network that drops packets silently) fails the connection
   */
  private static HikariDataSource connect(
      String url, String password, Duration timeout, String name, int size, String initSql, boolean bounded) {
    HikariConfig config = new HikariConfig();
    config.setPoolName(name);
    config.setJdbcUrl(url);
    if (password != null && !password.isEmpty()) {
      config.setPassword(password);
    }
    // The statement timeout is SET, not sent as the start-up parameter `options`, which
    // PgBouncer refuses by default ("unsupported startup parameter").
    String init = java.util.stream.Stream.of(bounded ? statementTimeoutSql(url, timeout) : null, initSql)
        .filter(java.util.Objects::nonNull)
        .collect(java.util.stream.Collectors.joining("; "));
    if (!init.isEmpty()) {
      config.setConnectionInitSql(init);
    }
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setConnectionTimeout(Math.max(250, timeout.toMillis()));
    config.setValidationTimeout(Math.max(250, Math.min(timeout.toMillis(), 1000)));
    config.setInitializationFailTimeout(timeout.toMillis());
    // Defaults unless the URL says otherwise: a dead host fails the connect, a silent one the
    // read. Strings only: the driver ignores a property whose value is not a String.
    config.addDataSourceProperty("connectTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
    // A server that accepts the connection but never answers its start-up (a frozen PostgreSQL)
    // must not hold a start, or a stop, for ever.
    config.addDataSourceProperty("loginTimeout", String.valueOf(socketTimeout(timeout).toSeconds()));
    config.addDataSourceProperty("tcpKeepAlive", "true");
    if (bounded) {
      config.addDataSourceProperty("socketTimeout", String.valueOf(socketTimeout(timeout).toSeconds()));
    }
    config.addDataSourceProperty("ApplicationName", "token-authority");
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new StoreUnavailableException("cannot connect to PostgreSQL: " + Throwables.getRootCause(e).getMessage(), e);
    }
  }


  /** How long a read may get no byte before its connection counts as lost (pgjdbc's {@code socketTimeout}). */
  static Duration socketTimeout(Duration timeout) {
    return Duration.ofSeconds(Math.max(10, Math.max(1, timeout.toSeconds()) * 2));
  }

  /**
   * The {@code SET statement_timeout} each bounded connection starts with, or null when the
   * URL's {@code options} set a statement timeout of their own: how long PostgreSQL lets one
   * statement run, lock waits included, before it cancels it. Half the socket timeout in effect
   * (the URL's {@code socketTimeout=} when it sets one, else ours), so that a statement stuck
   * behind a lock fails alone on a connection that answered, before the socket timeout would
   * take the connection for lost.
   */
  static String statementTimeoutSql(String url, Duration timeout) {
    Duration socket = socketTimeout(timeout);
    java.util.Properties given = org.postgresql.Driver.parseURL(url, null);
    if (given != null) {
      String options = given.getProperty("options", "");
      if (options.contains("statement_timeout") || options.contains("statement-timeout")) {
        return null;
      }
      try {
        long seconds = Long.parseLong(given.getProperty("socketTimeout", "0").trim());
        if (seconds > 0) {
          socket = Duration.ofSeconds(seconds);
        }
      } catch (NumberFormatException e) {
        // pgjdbc refuses the URL itself, with its own message.
      }
    }
    return "SET statement_timeout = " + Math.max(500, socket.toMillis() / 2);
  }

  @Override
  public <T> T read(Work<T> work) {
    return autocommit(work, "read");
  }

  /**
   * Runs work on a connection in autocommit mode: each statement commits on its own. For a
   * write, a connection lost once the statement was sent may have committed it.
   */
  private <T> T autocommit(Work<T> work, String what) {
    return autocommit(pool, work, what);
  }

  private <T> T autocommit(HikariDataSource from, Work<T> work, String what) {
    failIfDown();
    boolean sent = false;
    try (Connection c = wrap.apply(from.getConnection());
        PooledStatements statements = new PooledStatements(c)) {
      sent = what.equals("write");
      return work.run(statements);
    } catch (SQLException e) {
      throw unavailable(what, e, sent);
    }
  }

  /**
   * Runs work in a transaction. A connection lost before COMMIT was sent leaves nothing
   * committed (PostgreSQL aborts the transaction of a connection that goes away); one lost while
   * the COMMIT was under way may or may not have committed, and is reported as
   * {@link StoreUnavailableException#commitUnknown}.
   */
  @Override
  public <T> T write(Work<T> work) {
    failIfDown();
    boolean committing = false;
    try (Connection c = connection()) {
      c.setAutoCommit(false);
      try (PooledStatements statements = new PooledStatements(c)) {
        T result = work.run(statements);
        committing = true;
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        if (!committing) {
          rollback(c);
        }
        throw e;
      } finally {
        restoreAutoCommit(c);
      }
    } catch (SQLException e) {
      throw unavailable("write", e, committing);
    }
  }

  /** The pool resets a connection it gets back; a broken one only needs to be let go quietly. */
  private static void restoreAutoCommit(Connection c) {
    try {
      c.setAutoCommit(true);
    } catch (SQLException e) {
      log.debug("restoring autocommit failed: {}", e.getMessage());
    }
  }

  private Connection connection() throws SQLException {
    return wrap.apply(pool.getConnection());
  }

  @Override
  public <T> CompletableFuture<T> writeAsync(Work<T> work) {
    return submit(() -> write(work));
  }

  /** One statement in autocommit mode: the statement's own implicit transaction, one round trip. */
  @Override
  public <T> CompletableFuture<T> writeStatementAsync(Work<T> work) {
    return submit(() -> autocommit(work, "write"));
  }

  @Override
  public <T> CompletableFuture<T> writeUnflushedStatementAsync(Work<T> work) {
    return submit(() -> autocommit(unflushedPool, work, "write"));
  }

  @Override
  public <I, R> Batch<I, R> batch(boolean oneIsSingleStatement, ItemWork<I, R> one, BatchWork<I, R> many) {
    return new Grouped<>(oneIsSingleStatement ? GroupKind.STATEMENT_WRITE : GroupKind.TRANSACTION_WRITE, BATCH_RUNNERS, one, many);
  }

  @Override
  public <I, R> Batch<I, R> unflushedBatch(ItemWork<I, R> one, BatchWork<I, R> many) {
    return new Grouped<>(GroupKind.UNFLUSHED, 1, one, many);
  }

  @Override
  public <I, R> Batch<I, R> readBatch(ItemWork<I, R> one, BatchWork<I, R> many) {
    return new Grouped<>(GroupKind.READ, BATCH_RUNNERS, one, many);
  }

  private <T> CompletableFuture<T> submit(java.util.function.Supplier<T> write) {
    if (closed || !serving) {
      return CompletableFuture.failedFuture(down());
    }
    long enqueued = System.nanoTime();
    CompletableFuture<T> done = new CompletableFuture<>();
    try {
      writers.execute(
          () -> {
            // Never start a write whose caller has waited past the time limit for a thread.
            if (System.nanoTime() - enqueued > timeout.toNanos()) {
              done.completeExceptionally(
                  new StoreUnavailableException("the store did not start the write within " + timeout.toMillis() + " ms", null));
              return;
            }
            try {
              done.complete(write.get());
            } catch (RuntimeException | Error e) {
              // An Error too (a stack overflow, say): the caller gets an answer, never a hang.
              done.completeExceptionally(e);
            }
          });
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new StoreUnavailableException("the store has " + MAX_QUEUED_WRITES + " writes waiting already", e));
    }
    return done;
  }

  @Override
  public boolean tryExclusiveLock(Statements statements, long lockId) throws SQLException {
    PreparedStatement ps = statements.prepare("SELECT pg_try_advisory_xact_lock(?)");
    ps.setLong(1, lockId);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /**
   * Asks PostgreSQL whether it answers; the server calls this every second, and it is how a
   * store marked down comes back.
   */
  @Override
  public boolean isServing() {
    if (closed) {
      return false;
    }
    boolean answered;
    String trouble = "does not answer";
    try (Connection c = pool.getConnection()) {
      // A server that answers but takes no writes (a primary demoted to standby after a
      // failover) fails every mint and redeem: it is down for this store as well.
      answered = writable(c, timeout);
      trouble = "accepts no writes (a standby or read-only)";
    } catch (SQLException e) {
      // Every connection busy is load, not an outage: the calls holding them are answered.
      answered = isPoolBusy(e) && serving;
    }
    if (answered != serving) {
      if (answered) {
        log.info("PostgreSQL answers again");
      } else {
        log.warn("PostgreSQL {}", trouble);
      }
    }
    serving = answered;
    return answered;
  }

  @Override
  public void close() {
    closed = true;
    writers.shutdown();
    try {
      if (!writers.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        writers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    unflushedPool.close();
    pool.close();
  }

  private void failIfDown() {
    if (closed || !serving) {
      throw down();
    }
  }

  private StoreUnavailableException down() {
    return new StoreUnavailableException(closed ? "the store is closed" : "PostgreSQL does not answer", null);
  }

  /**
   * @param committing whether the commit (or an autocommit write statement) had been sent: then a
   *     lost connection leaves the outcome unknown, while any other error means it did not commit
   */
  private StoreUnavailableException unavailable(String what, SQLException e, boolean committing) {
    boolean connectionLost = isConnectionFailure(e);
    // A server that refuses writes (25006: a standby, read-only) committed nothing, but is down
    // for this store: the health probe brings it back once a connection reaches a writable primary.
    if (connectionLost || READ_ONLY_TRANSACTION.equals(e.getSQLState())) {
      if (serving) {
        log.warn("PostgreSQL {} failed, marking the store down until it answers: {}", what, e.getMessage());
      }
      serving = false;
    }
    if (committing && connectionLost) {
      return StoreUnavailableException.commitUnknown("the connection was lost while a " + what + " committed: " + e.getMessage(), e);
    }
    return new StoreUnavailableException("a store " + what + " failed: " + e.getMessage(), e);
  }

  /**
   * Connection exceptions (SQLSTATE class 08), a server shutting down (57P), a pool timeout
   * while connecting fails. Not a pool whose connections are all busy: that is load, and
   * marking the store down would fail every call for a second after one slow moment. Nor a
   * caller interrupted while it waited for a connection (a stop ending the purge): marking the
   * store down then would fail every call still draining.
   */
  private static boolean isConnectionFailure(SQLException e) {
    String state = e.getSQLState();
    return !isPoolBusy(e)
        && !(e.getCause() instanceof InterruptedException)
        && (e instanceof SQLTransientConnectionException
            || state == null
            || state.startsWith("08")
            || state.startsWith("57P"));
  }

  /**
   * Whether the pool timed out with every connection in use: HikariCP's timeout then has no
   * cause, while one that could not connect carries the last connection failure.
   */
  private static boolean isPoolBusy(SQLException e) {
    return e instanceof SQLTransientConnectionException && e.getCause() == null;
  }

  /** Whether the connection's server takes writes: not in recovery (a standby), not read-only. */
  private static boolean writable(Connection c, Duration timeout) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")) {
      ps.setQueryTimeout((int) Math.max(1, timeout.toSeconds()));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && !rs.getBoolean(1);
      }
    }
  }

  private static void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      log.debug("rollback failed: {}", e.getMessage());
    }
  }

  /**
   * How a {@link Grouped} kind runs: a group of durable writes in a transaction (its items
   * alone as one statement each, or each in a transaction), reads as one statement, or
   * unflushed statements on the unflushed connections.
   */
  private enum GroupKind {
    STATEMENT_WRITE, TRANSACTION_WRITE, READ, UNFLUSHED
  }

  /**
   * The items of one kind of write waiting for a group, and the groups in flight. A submit
   * queues its item and starts a runner unless {@code maxRunners} already run; a runner
   * takes everything waiting (up to {@value #MAX_BATCH}), runs it in one transaction (a read:
   * one statement), and starts the next runner if items wait. A group that fails for a reason
   * other than the connection was rolled back, and is run again one item at a time, so that one
   * bad item fails only its own call.
   */
  private final class Grouped<I, R> implements Batch<I, R> {
    private final GroupKind kind;
    private final int maxRunners;
    private final ItemWork<I, R> one;
    private final BatchWork<I, R> many;
    private final java.util.concurrent.ConcurrentLinkedQueue<Pending<I, R>> waiting =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicInteger waitingCount = new AtomicInteger();
    private final AtomicInteger runners = new AtomicInteger();

    Grouped(GroupKind kind, int maxRunners, ItemWork<I, R> one, BatchWork<I, R> many) {
      this.kind = kind;
      this.maxRunners = maxRunners;
      this.one = one;
      this.many = many;
    }

    @Override
    public CompletableFuture<R> submit(I item) {
      if (closed || !serving) {
        return CompletableFuture.failedFuture(down());
      }
      if (waitingCount.get() >= MAX_QUEUED_WRITES) {
        return CompletableFuture.failedFuture(
            new StoreUnavailableException("the store has " + MAX_QUEUED_WRITES + " writes waiting already", null));
      }
      Pending<I, R> pending = new Pending<>(item, new CompletableFuture<>(), System.nanoTime());
      waitingCount.incrementAndGet();
      waiting.add(pending);
      startRunner();
      return pending.done();
    }

    private void startRunner() {
      while (true) {
        int running = runners.get();
        if (running >= maxRunners || waiting.isEmpty()) {
          return;
        }
        if (runners.compareAndSet(running, running + 1)) {
          break;
        }
      }
      try {
        writers.execute(this::run);
      } catch (RejectedExecutionException e) {
        runners.decrementAndGet();
        fail(take(), new StoreUnavailableException("the store is closed", e));
      }
    }

    /**
     * Runs one group, then hands over: a runner that found more waiting goes to the back of
     * the writer threads' queue, so that busy kinds of write never keep the others waiting.
     */
    private void run() {
      try {
        List<Pending<I, R>> group = take();
        if (!group.isEmpty()) {
          runGroup(group);
        }
      } finally {
        runners.decrementAndGet();
        // Items queued meanwhile, whether or not this runner still counted as running.
        startRunner();
      }
    }

    private List<Pending<I, R>> take() {
      List<Pending<I, R>> group = new ArrayList<>();
      long now = System.nanoTime();
      Pending<I, R> p;
      while (group.size() < MAX_BATCH && (p = waiting.poll()) != null) {
        waitingCount.decrementAndGet();
        // Never start a write whose caller has waited past the time limit.
        if (now - p.enqueuedNanos() > timeout.toNanos()) {
          p.done().completeExceptionally(
              new StoreUnavailableException("the store did not start the write within " + timeout.toMillis() + " ms", null));
        } else {
          group.add(p);
        }
      }
      return group;
    }

    private void runGroup(List<Pending<I, R>> group) {
      if (group.size() == 1) {
        runAlone(group.get(0));
        return;
      }
      List<I> items = new ArrayList<>(group.size());
      for (Pending<I, R> p : group) {
        items.add(p.item());
      }
      List<R> results;
      try {
        Work<List<R>> unit = s -> many.run(s, items);
        results = switch (kind) {
          case STATEMENT_WRITE, TRANSACTION_WRITE -> write(unit);
          case READ -> autocommit(unit, "read");
          case UNFLUSHED -> autocommit(unflushedPool, unit, "write");
        };
      } catch (Error e) {
        fail(group, e);
        return;
      } catch (RuntimeException e) {
        // Rolled back unless the commit's outcome is unknown: only then may the items not be re-run.
        boolean rolledBack = !(e instanceof StoreUnavailableException u && u.commitUnknown());
        boolean rerun = rolledBack && serving && !closed;
        // An unflushed group (each statement committed on its own) whose first statement
        // committed: its items' results stand.
        List<Object> done =
            kind == GroupKind.UNFLUSHED && e.getCause() instanceof PartlyDoneException partly ? partly.results() : null;
        if (rerun) {
          log.debug("a group of {} writes failed, running {} one by one: {}",
              group.size(), done == null ? "them" : "those not done", e.getMessage());
        }
        for (int i = 0; i < group.size(); i++) {
          Pending<I, R> p = group.get(i);
          if (done != null && done.get(i) != null) {
            @SuppressWarnings("unchecked")
            R result = (R) done.get(i);
            p.done().complete(result);
          } else if (rerun) {
            runAlone(p);
          } else {
            p.done().completeExceptionally(e);
          }
        }
        return;
      }
      for (int i = 0; i < group.size(); i++) {
        group.get(i).done().complete(results.get(i));
      }
    }

    private void runAlone(Pending<I, R> p) {
      try {
        Work<R> unit = s -> one.run(s, p.item());
        p.done().complete(switch (kind) {
          case STATEMENT_WRITE -> autocommit(unit, "write");
          // A lookup alone writes nothing: losing its connection is a plain failure, not a
          // commit of unknown outcome (which tells a client never to retry blindly).
          case READ -> autocommit(unit, "read");
          case TRANSACTION_WRITE -> write(unit);
          case UNFLUSHED -> autocommit(unflushedPool, unit, "write");
        });
      } catch (RuntimeException | Error e) {
        p.done().completeExceptionally(e);
      }
    }

    private void fail(List<Pending<I, R>> group, Throwable e) {
      for (Pending<I, R> p : group) {
        p.done().completeExceptionally(e);
      }
    }
  }

  private record Pending<I, R>(I item, CompletableFuture<R> done, long enqueuedNanos) {}

  /**
   * The statements of one unit of work, closed with it. The driver keeps server-side prepared
   * statements per connection, keyed by SQL, so preparing the same SQL again is cheap.
   */
  private static final class PooledStatements implements Statements, AutoCloseable {
    private final Connection connection;
    private final List<PreparedStatement> open = new ArrayList<>(2);

    PooledStatements(Connection connection) {
      this.connection = connection;
    }

    @Override
    public PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement ps = connection.prepareStatement(sql);
      open.add(ps);
      return ps;
    }

    @Override
    public java.sql.Array array(String type, Object[] elements) throws SQLException {
      return connection.createArrayOf(type, elements);
    }

    @Override
    public void close() throws SQLException {
      for (PreparedStatement ps : open) {
        ps.close();
      }
    }
  }
}
