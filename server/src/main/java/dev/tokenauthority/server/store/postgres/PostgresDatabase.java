package dev.tokenauthority.server.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.jdbc.Database;
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

  private final HikariDataSource pool;
  /** Applied to every pooled connection a call uses: the identity, except in fault tests. */
  private final UnaryOperator<Connection> wrap;
  private final Duration timeout;
  private final ThreadPoolExecutor writers;
  private volatile boolean serving = true;
  private volatile boolean closed;

  private PostgresDatabase(HikariDataSource pool, Duration timeout, int poolSize, UnaryOperator<Connection> wrap) {
    this.pool = pool;
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
    HikariConfig config = new HikariConfig();
    config.setPoolName("postgres");
    config.setJdbcUrl(url);
    if (password != null && !password.isEmpty()) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(DEFAULT_POOL_SIZE);
    config.setMinimumIdle(DEFAULT_POOL_SIZE);
    config.setConnectionTimeout(Math.max(250, timeout.toMillis()));
    config.setValidationTimeout(Math.max(250, Math.min(timeout.toMillis(), 1000)));
    config.setInitializationFailTimeout(timeout.toMillis());
    long seconds = Math.max(1, timeout.toSeconds());
    // Defaults unless the URL says otherwise: a dead host fails the connect, a silent one the read.
    config.addDataSourceProperty("connectTimeout", seconds);
    config.addDataSourceProperty("socketTimeout", Math.max(10, seconds * 2));
    config.addDataSourceProperty("tcpKeepAlive", true);
    config.addDataSourceProperty("ApplicationName", "token-authority");
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new StoreUnavailableException("cannot connect to PostgreSQL: " + rootMessage(e), e);
    }
    try {
      Flyway.configure()
          .dataSource(pool)
          .locations("classpath:db/migration/postgresql")
          .load()
          .migrate();
    } catch (RuntimeException e) {
      pool.close();
      throw new StoreUnavailableException("cannot migrate the PostgreSQL schema: " + rootMessage(e), e);
    }
    return new PostgresDatabase(pool, timeout, DEFAULT_POOL_SIZE, wrap);
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
    failIfDown();
    boolean sent = false;
    try (Connection c = connection();
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
            } catch (RuntimeException e) {
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
    try (Connection c = pool.getConnection()) {
      answered = c.isValid((int) Math.max(1, timeout.toSeconds()));
    } catch (SQLException e) {
      answered = false;
    }
    if (answered != serving) {
      if (answered) {
        log.info("PostgreSQL answers again");
      } else {
        log.warn("PostgreSQL does not answer");
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
    if (connectionLost) {
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

  /** Connection exceptions (SQLSTATE class 08), a server shutting down (57P), a pool timeout. */
  private static boolean isConnectionFailure(SQLException e) {
    String state = e.getSQLState();
    return e instanceof SQLTransientConnectionException
        || state == null
        || state.startsWith("08")
        || state.startsWith("57P");
  }

  private static void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      log.debug("rollback failed: {}", e.getMessage());
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }

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
    public void close() throws SQLException {
      for (PreparedStatement ps : open) {
        ps.close();
      }
    }
  }
}
