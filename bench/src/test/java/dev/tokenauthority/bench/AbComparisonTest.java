package dev.tokenauthority.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The A/B table that {@code --against-jar} prints after the figures. */
class AbComparisonTest {

  private static Map<String, Object> run(String build, String workload, long callsPerSecond, double ratio, double serverMicros) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("store", "sqlite");
    r.put("outstandingSessions", 1000);
    r.put("workload", workload);
    r.put("callsPerSecond", callsPerSecond);
    r.put("ratioToBaseline", ratio);
    r.put("serverCpuMicrosPerCall", serverMicros);
    r.put("build", build);
    return r;
  }

  @Test
  void lines_putEachWorkloadsRunsBeforeBesideAfter_inRunOrder() {
    Map<String, Object> h2cBefore = run("before", "h2c_mint", 14_383, 0.198, 91.3);
    h2cBefore.put("ratioToGrpc", 0.74);
    Map<String, Object> h2cAfter = run("after", "h2c_mint", 16_308, 0.2297, 82.9);
    h2cAfter.put("ratioToGrpc", 0.881);
    Map<String, Object> pgbench = new LinkedHashMap<>(Map.of("store", "pgbench", "workload", "insert"));
    List<Map<String, Object>> results = List.of(
        run("before", "baseline", 69_556, 1.0, 13.9), run("before", "mint", 19_309, 0.278, 73.2), h2cBefore,
        run("after", "baseline", 58_621, 1.0, 16.5), run("after", "mint", 16_179, 0.276, 88.7), h2cAfter,
        pgbench,
        run("after", "baseline", 75_029, 1.0, 13.2), run("after", "mint", 20_289, 0.2704, 70.3),
        run("before", "baseline", 66_341, 1.0, 14.7), run("before", "mint", 18_451, 0.2781, 76.6));

    List<String> lines = AbComparison.lines(results, Path.of("old.jar"), Path.of("new.jar"));

    assertThat(lines.get(0)).contains("before = old.jar", "after = new.jar");
    assertThat(row(lines, "mint ")).contains("0.28, 0.28").contains("0.28, 0.27");
    assertThat(lines.get(lines.indexOf(row(lines, "mint ")) + 1)).contains("server µs per call", "73.2, 76.6", "88.7, 70.3");
    assertThat(row(lines, "baseline")).contains("69,556/s, 66,341/s", "58,621/s, 75,029/s");
    assertThat(row(lines, "h2c_mint")).contains("0.20", "0.23");
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("over its gRPC twin", "0.74", "0.88"));
    assertThat(lines).noneSatisfy(l -> assertThat(l).contains("pgbench"));
  }

  private static String row(List<String> lines, String workload) {
    return lines.stream().filter(l -> l.startsWith("sqlite") && l.contains(" " + workload)).findFirst().orElseThrow();
  }
}
