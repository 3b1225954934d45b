package dev.tokenauthority.server.store.jdbc;

import java.sql.SQLException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Thrown by a group's work ({@link Database#unflushedBatch}) that failed after some of its items'
 * effects were committed: those items' results stand and must be answered, never run again; the
 * items without a result are untouched. Carries the failure's SQLSTATE, so that whoever reads it
 * tells a lost connection from a refused statement as it would for the failure itself.
 */
public final class PartlyDoneException extends SQLException {
  private static final long serialVersionUID = 1L;

  private final transient List<Object> results;

  PartlyDoneException(SQLException cause, Object[] results) {
    super(cause.getMessage(), cause.getSQLState(), cause.getErrorCode(), cause);
    this.results = Collections.unmodifiableList(Arrays.asList(results.clone()));
  }

  /** One entry per item of the group, in order: its result, or null for an item not done. */
  public List<Object> results() {
    return results;
  }
}
