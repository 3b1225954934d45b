package dev.tokenauthority.server.store;

import java.util.Locale;
import java.util.Optional;

/** The stores the server can run on, as {@code --store} names them, and what each implies. */
public enum StoreKind {
  /** In the process's memory: lost at a stop; for development and tests. */
  MEMORY(false),
  /** One SQLite file in the data directory: durable, one process. */
  SQLITE(false),
  /** A PostgreSQL database that several replicas may share. */
  POSTGRES(true);

  /** How {@code --store} names a PostgreSQL database: a JDBC URL. */
  public static final String POSTGRES_URL_PREFIX = "jdbc:postgresql:";

  private final boolean shared;

  StoreKind(boolean shared) {
    this.shared = shared;
  }

  /**
   * The kind {@code --store} names: {@code memory}, {@code sqlite} (case-insensitive) or a
   * {@code jdbc:postgresql:} URL; empty for anything else.
   */
  public static Optional<StoreKind> ofSetting(String store) {
    String s = store.toLowerCase(Locale.ROOT);
    if (s.equals("memory")) {
      return Optional.of(MEMORY);
    }
    if (s.equals("sqlite")) {
      return Optional.of(SQLITE);
    }
    return s.startsWith(POSTGRES_URL_PREFIX) ? Optional.of(POSTGRES) : Optional.empty();
  }

  /**
   * Whether several server processes may share a store of this kind. Only then must state such
   * as rate-limit buckets live in it rather than in each process's memory.
   */
  public boolean shared() {
    return shared;
  }

  /** The name for logs and health: {@code memory}, {@code sqlite}, {@code postgres}. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
