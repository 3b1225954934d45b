package dev.tokenauthority.server.store.jdbc;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a group of unflushed upserts of keyed rows runs on PostgreSQL (rate-limit buckets,
 * quota months), each statement committed on its own: one statement over the group; rows for
 * the keys it found absent, and the same statement again over the items still open; then each
 * item left, alone. Nothing is committed until the first statement is, so a failure there lets
 * the caller re-run the whole group item by item; once it has committed, its results stand: a
 * later failure sends the items still open through the single upsert, and one there is thrown as
 * a {@link PartlyDoneException} that carries the results so far.
 */
final class KeyedRowGroups {
  /** One statement over the open items: fills their results, returns the items still open. */
  @FunctionalInterface
  interface Pass<R> {
    List<Integer> run(List<Integer> open, R[] results) throws SQLException;
  }

  /** Creates the rows of the open items' keys that do not exist yet. */
  @FunctionalInterface
  interface CreateRows {
    void run(List<Integer> open) throws SQLException;
  }

  /** One item alone, by the single upsert. */
  @FunctionalInterface
  interface Alone<R> {
    R run(int item) throws SQLException;
  }

  private KeyedRowGroups() {}

  static <R> List<R> run(R[] results, Pass<R> pass, CreateRows createRows, Alone<R> alone) throws SQLException {
    List<Integer> all = new ArrayList<>(results.length);
    for (int i = 0; i < results.length; i++) {
      all.add(i);
    }
    List<Integer> open = pass.run(all, results);
    if (!open.isEmpty()) {
      try {
        createRows.run(open);
        pass.run(open, results);
      } catch (SQLException e) {
        // The first statement's results stand; the items still open go alone, below.
      }
    }
    try {
      for (int i = 0; i < results.length; i++) {
        if (results[i] == null) {
          results[i] = alone.run(i);
        }
      }
    } catch (SQLException e) {
      // The first statement committed: re-running its items would take their effect twice.
      throw new PartlyDoneException(e, results);
    }
    return Arrays.asList(results);
  }
}
