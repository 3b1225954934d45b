package dev.tokenauthority.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreContractTest;
import dev.tokenauthority.server.testing.FreshPostgresDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A statement cannot hold a call for ever: PostgreSQL cancels one stuck behind a lock (the call
 * fails alone, the store stays up), and a connection whose network went silent is given up
 * after the socket timeout (the store is marked down). Both with the store's 2 s timeout, as
 * the server opens it: 5 s and 10 s.
 */
class PostgresTimeoutsTest {
  private static final Duration STORE_TIMEOUT = Duration.ofSeconds(2);
  @RegisterExtension final FreshPostgresDatabase database = new FreshPostgresDatabase();

  @Test
  void aLockHeldLongerThanTheStatementTimeout_failsTheWaitingCallAlone_andTheStoreStaysUp() throws Exception {
    assertThat(waitBehindALock(database.url())).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(9));
  }

  @Test
  void aSocketTimeoutInTheUrl_givesAStatementTimeoutOfHalfOfIt() throws Exception {
    assertThat(waitBehindALock(database.urlWith("socketTimeout=4")))
        .as("2 s: a lock wait still fails before the URL's 4 s socket timeout would mark the store down")
        .isBetween(Duration.ofMillis(1_500), Duration.ofMillis(3_900));
  }

  @Test
  void aStatementTimeoutInTheUrlsOptions_isTheOneUsed() throws Exception {
    assertThat(waitBehindALock(database.urlWith("options=-c%20statement_timeout%3D1000")))
        .isBetween(Duration.ofMillis(700), Duration.ofMillis(3_000));
  }

  /** How long a read waited behind another session's lock on its table before it failed alone. */
  private static Duration waitBehindALock(String storeUrl) throws Exception {
    try (Store store = PostgresStores.open(storeUrl, null, STORE_TIMEOUT);
        Connection other = DriverManager.getConnection(storeUrl)) {
      store.tenants().insertTenant(StoreContractTest.tenant("t1"));
      other.setAutoCommit(false);
      try (Statement s = other.createStatement()) {
        s.execute("LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE");
      }

      long started = System.nanoTime();
      Throwable failure = catchThrowable(() -> store.tenants().findTenant("t1"));
      Duration waited = Duration.ofNanos(System.nanoTime() - started);

      assertThat(failure).isInstanceOfSatisfying(StoreUnavailableException.class, e -> {
        assertThat(e.commitUnknown()).isFalse();
        assertThat(e.getMessage()).contains("statement timeout");
      });
      assertThat(store.isServing()).as("PostgreSQL answered: only that call failed").isTrue();
      other.rollback();
      assertThat(store.tenants().findTenant("t1")).isPresent();
      return waited;
    }
  }

  @Test
  void aNetworkThatGoesSilent_failsTheCallAfterTheSocketTimeout_andMarksTheStoreDown() throws Exception {
    URI real = URI.create(database.url().substring("jdbc:".length()));
    try (SilentableProxy proxy = new SilentableProxy(real.getPort())) {
      String throughProxy = database.url().replace(":" + real.getPort() + "/", ":" + proxy.port() + "/");
      try (Store store = PostgresStores.open(throughProxy, null, STORE_TIMEOUT)) {
        store.tenants().insertTenant(StoreContractTest.tenant("t1"));
        proxy.goSilent();

        long started = System.nanoTime();
        Throwable failure = catchThrowable(() -> store.tenants().findTenant("t1"));
        Duration waited = Duration.ofNanos(System.nanoTime() - started);

        assertThat(failure).isInstanceOf(StoreUnavailableException.class);
        assertThat(waited).as("the socket timeout, not for ever").isBetween(Duration.ofSeconds(9), Duration.ofSeconds(20));
        assertThat(store.isServing()).isFalse();
      }
    }
  }

  /** A TCP proxy to PostgreSQL that can stop passing bytes on, closing nothing (packets dropped). */
  private static final class SilentableProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean silent;

    SilentableProxy(int target) throws IOException {
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread accept = new Thread(() -> {
        while (!listener.isClosed()) {
          try {
            Socket client = listener.accept();
            Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
            sockets.add(client);
            sockets.add(server);
            pump(client, server);
            pump(server, client);
          } catch (IOException e) {
            return;
          }
        }
      }, "silentable-proxy");
      accept.setDaemon(true);
      accept.start();
    }

    int port() {
      return listener.getLocalPort();
    }

    void goSilent() {
      silent = true;
    }

    private void pump(Socket from, Socket to) {
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
          int n;
          while ((n = in.read(buffer)) >= 0) {
            if (!silent) {
              out.write(buffer, 0, n);
              out.flush();
            }
          }
        } catch (IOException e) {
          // one side closed
        }
      }, "silentable-proxy-pump");
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void close() throws IOException {
      listener.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
