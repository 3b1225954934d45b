package dev.tokenauthority.server.store.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * How values are kept in columns: times as epoch milliseconds (null for none), lists of scopes,
 * origins and modules space-separated (none may contain a space).
 */
final class JdbcValues {
  private JdbcValues() {}

  static String join(List<String> values) {
    return String.join(" ", values);
  }

  static List<String> split(String joined) {
    return joined == null || joined.isEmpty() ? List.of() : Arrays.asList(joined.split(" "));
  }

  static void setTime(PreparedStatement ps, int index, Instant time) throws SQLException {
    if (time == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, time.toEpochMilli());
    }
  }

  static Instant getTime(ResultSet rs, int index) throws SQLException {
    long millis = rs.getLong(index);
    return rs.wasNull() ? null : Instant.ofEpochMilli(millis);
  }
}
