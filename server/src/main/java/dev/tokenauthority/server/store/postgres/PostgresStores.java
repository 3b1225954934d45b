package dev.tokenauthority.server.store.postgres;

import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Opens the store for several replicas: one PostgreSQL database, named by a {@code jdbc:postgresql://}
 * URL, shared by every replica of the authority.
 */
public final class PostgresStores {
  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&]*");
  private static final Pattern USER_INFO = Pattern.compile("//[^/@]*@");

  private PostgresStores() {}

  /**
   * Connects and migrates the schema.
   *
   * @param password used when the URL carries none (from an environment variable, so that it
   *     is not in the process list); may be null
   */
  public static Store open(String url, String password, Duration timeout) {
    return new JdbcStore(StoreKind.POSTGRES, PostgresDatabase.open(url, password, timeout));
  }

  /** The store with every call's connection passed through {@code wrap}: for fault tests. */
  static Store open(String url, String password, Duration timeout, java.util.function.UnaryOperator<java.sql.Connection> wrap) {
    return new JdbcStore(StoreKind.POSTGRES, PostgresDatabase.open(url, password, timeout, wrap));
  }

  /** The URL with any password or user info blanked, for logs. */
  public static String redact(String url) {
    return USER_INFO.matcher(PASSWORD_PARAMETER.matcher(url).replaceAll("$1***")).replaceAll("//***@");
  }
}
