package dev.tokenauthority.client.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.v1.RevokeResponse;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints a command's result on stdout: aligned {@code name value} lines or a table for people,
 * or the response message as JSON (protobuf's JSON mapping, every field present) with
 * {@code --json}.
 */
final class Output {
  private static final JsonFormat.Printer JSON = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();

  private final PrintWriter out;
  private final boolean json;

  Output(PrintWriter out, boolean json) {
    this.out = out;
    this.json = json;
  }

  /** Whether something printed so far could not be written (stdout closed or full). */
  boolean failed() {
    return out.checkError();
  }

  /** Whether the user asked for JSON. */
  boolean json() {
    return json;
  }

  void printJson(MessageOrBuilder message) {
    try {
      out.println(JSON.print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print the response as JSON", e);
    }
    out.flush();
  }

  void line(String text) {
    out.println(text);
    out.flush();
  }

  /** Starts a list of {@code name value} lines. */
  Fields fields() {
    return new Fields();
  }

  /** Prints rows under a header, each column as wide as its widest cell. */
  void table(List<String> header, List<List<String>> rows) {
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    int[] widths = new int[header.size()];
    for (List<String> row : all) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < row.size() - 1) {
          line.append(" ".repeat(widths[i] - cell.length() + 2));
        }
      }
      out.println(line);
    }
    out.flush();
  }

  /** {@code name value} lines, names padded to one width. */
  final class Fields {
    private final List<String[]> rows = new ArrayList<>();

    private Fields() {}

    Fields add(String name, Object value) {
      rows.add(new String[] {name, String.valueOf(value)});
      return this;
    }

    void print() {
      int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
      for (String[] row : rows) {
        out.println(row[0] + " ".repeat(width - row[0].length() + 2) + row[1]);
      }
      out.flush();
    }
  }

  /** A list for a table cell or a field: comma-separated, or {@code -} when empty. */
  static String list(List<String> items) {
    return items.isEmpty() ? "-" : String.join(",", items);
  }

  /** Prints a revocation of {@code id}: the wire response as JSON, or one line of text. */
  void revoked(String id, Instant revoked) {
    if (json()) {
      printJson(RevokeResponse.newBuilder()
          .setRevokeTime(Timestamp.newBuilder().setSeconds(revoked.getEpochSecond()).setNanos(revoked.getNano()))
          .build());
      return;
    }
    line("revoked " + id + " at " + revoked);
  }

  /** A value for a table cell or a field, {@code -} when empty. */
  static String orDash(String value) {
    return value == null || value.isEmpty() ? "-" : value;
  }
}
