package dev.tokenauthority.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The A/B table of a run with {@code --against-jar}: for each store and workload, every run's
 * ratio to its own baseline (and, for a transport's twin, to its gRPC call) and the server's CPU
 * per call, the build before the change beside the build after it. Ratios are compared, not
 * rates: the machine's speed moves between runs, a run's baseline moves with it.
 */
final class AbComparison {
  private AbComparison() {}

  static List<String> lines(List<Map<String, Object>> results, Path before, Path after) {
    Map<String, Map<String, List<Map<String, Object>>>> byWorkload = new LinkedHashMap<>();
    for (Map<String, Object> r : results) {
      Object build = r.get("build");
      if (build == null) {
        continue; // pgbench's reference rows
      }
      String key = String.format(Locale.ROOT, "%-7s %,11d %-12s", r.get("store"), r.get("outstandingSessions"), r.get("workload"));
      byWorkload.computeIfAbsent(key, k -> new LinkedHashMap<>())
          .computeIfAbsent((String) build, b -> new ArrayList<>()).add(r);
    }
    List<String> out = new ArrayList<>();
    out.add("A/B: before = " + before + ", after = " + after + " (each run's ratio to its own baseline, the baseline's calls/s; server µs per call)");
    out.add(String.format(Locale.ROOT, "%-7s %11s %-12s  %-26s %-26s", "store", "outstanding", "workload", "before", "after"));
    for (Map.Entry<String, Map<String, List<Map<String, Object>>>> e : byWorkload.entrySet()) {
      List<Map<String, Object>> b = e.getValue().getOrDefault("before", List.of());
      List<Map<String, Object>> a = e.getValue().getOrDefault("after", List.of());
      boolean baseline = e.getKey().trim().endsWith(" baseline");
      String field = baseline ? "callsPerSecond" : "ratioToBaseline";
      String format = baseline ? "%,.0f/s" : "%.2f";
      out.add(String.format(Locale.ROOT, "%s  %-26s %-26s", e.getKey(),
          cell(b, field, format), cell(a, field, format)));
      out.add(String.format(Locale.ROOT, "%-32s  %-26s %-26s", "    server µs per call",
          cell(b, "serverCpuMicrosPerCall", "%.1f"), cell(a, "serverCpuMicrosPerCall", "%.1f")));
      if (b.stream().anyMatch(r -> r.containsKey("ratioToGrpc"))) {
        out.add(String.format(Locale.ROOT, "%-32s  %-26s %-26s", "    over its gRPC twin",
            cell(b, "ratioToGrpc", "%.2f"), cell(a, "ratioToGrpc", "%.2f")));
      }
    }
    return out;
  }

  /** The runs' values of {@code field}, in run order. */
  private static String cell(List<Map<String, Object>> runs, String field, String format) {
    return runs.stream()
        .map(r -> r.get(field))
        .map(v -> v instanceof Number n ? String.format(Locale.ROOT, format, n.doubleValue()) : "-")
        .collect(Collectors.joining(", "));
  }
}
