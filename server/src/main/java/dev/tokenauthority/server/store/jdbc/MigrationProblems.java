package dev.tokenauthority.server.store.jdbc;

import java.util.Optional;
import java.util.stream.Collectors;
import org.flywaydb.core.api.exception.FlywayValidateException;

/**
 * Flyway's refusal of a store's schema history, in one line a user can act on. Flyway's own text
 * is many lines, and its advice (run {@code repair}, {@code baseline()}) names commands this
 * server does not have.
 */
public final class MigrationProblems {
  private MigrationProblems() {}

  /** The failed validation in {@code e}'s causes, if there is one, with what to do instead. */
  public static Optional<String> describe(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("but no schema history table")) {
        // Flyway's "Found non-empty schema(s) ... Use baseline() or set baselineOnMigrate".
        return Optional.of("the schema holds tables of something else (" + t.getMessage().lines().findFirst().orElse("")
            .replaceAll("\\s*but no schema history table.*", "") + "), and this server does not share one:"
            + " give it a database of its own, or a schema of its own with currentSchema= in the URL");
      }
      if (t instanceof FlywayValidateException && t.getMessage() != null) {
        String details = t.getMessage().lines()
            .map(String::strip)
            .filter(line -> !line.isEmpty() && !line.startsWith("Validate failed") && !line.startsWith("->")
                && !line.contains("repair") && !line.contains("Learn more") && !line.contains("baseline")
                && !line.startsWith("Need more flexibility"))
            .collect(Collectors.joining("; "));
        return Optional.of("its schema history does not match this build's migrations ("
            + (details.isEmpty() ? t.getMessage().lines().findFirst().orElse("") : details)
            + "): restore a backup this release made, or run the release that made this store");
      }
    }
    return Optional.empty();
  }
}
