package dev.tokenauthority.bench;

import dev.tokenauthority.server.ClassDataTraining;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How the server does as a sidecar: time from {@code java -jar} to the first health check that
 * answers SERVING, and resident memory (VmRSS) after it has then sat idle, on each chosen store,
 * without any setting, with the sidecar settings of docs/deployment.md, and with them plus the
 * class-data sharing archive the build makes; each run several times; prints the medians.
 */
@Command(name = "sidecar-footprint", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures start-up time to SERVING and idle RSS of the server jar.")
public final class SidecarFootprint implements Callable<Integer> {
  @Option(names = "--server-jar", defaultValue = "server/target/token-authority-server.jar",
      description = "The server jar (default: ${DEFAULT-VALUE}).")
  Path serverJar;

  @Option(names = "--runs", defaultValue = "5", description = "Starts per option set (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--idle-seconds", defaultValue = "5", description = "Idle time before RSS is read (default: ${DEFAULT-VALUE}).")
  int idleSeconds;

  @Option(names = "--cds-archive",
      description = "The class-data sharing archive of the jar, made by the build (default: next to the jar,"
          + " token-authority-server-grpc-only.jsa with --http-port off, token-authority-server.jsa otherwise);"
          + " made here by the server's training run when missing.")
  Path cdsArchive;

  @Option(names = "--http-port", defaultValue = "0",
      description = "The server's --http-port: 0 (a free port, the HTTP/JSON port served), off, or 'absent' to pass"
          + " no such flag, for a jar from before the HTTP port (default: ${DEFAULT-VALUE}).")
  String httpPort;

  @Option(names = "--stores", split = ",", defaultValue = "sqlite,memory",
      description = "Stores to start on (default: ${DEFAULT-VALUE}).")
  List<String> stores;

  /** The sidecar settings of docs/deployment.md: JVM options, then the environment and server flags. */
  static final List<String> SIDECAR_JVM = List.of(
      "-XX:+UseSerialGC", "-Xms8m", "-Xmx96m", "-XX:MaxMetaspaceSize=80m", "-XX:ReservedCodeCacheSize=32m",
      "-Xss256k", "-XX:CICompilerCount=2", "-XX:TrimNativeHeapInterval=2000",
      "-Dio.grpc.netty.shaded.io.netty.allocator.numDirectArenas=1",
      "-Dio.grpc.netty.shaded.io.netty.allocator.numHeapArenas=1",
      "-Dio.grpc.netty.shaded.io.netty.allocator.maxOrder=7");
  static final Map<String, String> SIDECAR_ENV = Map.of("MALLOC_ARENA_MAX", "2");
  static final List<String> SIDECAR_ARGS = List.of("--executor-threads=1");

  public static void main(String[] args) {
    System.exit(new CommandLine(new SidecarFootprint()).execute(args));
  }

  /** Wall time to SERVING, the CPU time the process used by then (less sensitive to a busy machine), idle RSS. */
  private record Measured(long startMillis, long startCpuMillis, long rssMiB) {}

  /** One way of starting the server. */
  private record Settings(String name, List<String> jvm, Map<String, String> env, List<String> args) {}

  @Override
  public Integer call() throws Exception {
    Path jar = serverJar.toAbsolutePath();
    boolean grpcOnly = httpPort.equals("off");
    Path archive = (cdsArchive != null ? cdsArchive
        : jar.resolveSibling(grpcOnly ? "token-authority-server-grpc-only.jsa" : "token-authority-server.jsa")).toAbsolutePath();
    if (!Files.exists(archive)) {
      // The build's archive is missing (-Dcds.skip): the same training run, here.
      List<String> dump = new ArrayList<>(SIDECAR_JVM);
      dump.add("-XX:ArchiveClassesAtExit=" + archive);
      Path scratch = Files.createTempDirectory("ta-cds-");
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      command.addAll(dump);
      command.addAll(List.of("-cp", jar.toString(), "dev.tokenauthority.server.ClassDataTraining", scratch.toString()));
      if (grpcOnly) {
        command.addAll(List.of("--http-port", "off"));
      }
      Process p = new ProcessBuilder(command).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("the class-data training run failed");
      }
    }
    List<String> withCds = new ArrayList<>(SIDECAR_JVM);
    withCds.add("-XX:SharedArchiveFile=" + archive);
    List<Settings> sets = List.of(
        new Settings("default (none)", List.of(), Map.of(), List.of()),
        new Settings("sidecar", SIDECAR_JVM, SIDECAR_ENV, SIDECAR_ARGS),
        new Settings("sidecar + AppCDS", withCds, SIDECAR_ENV, SIDECAR_ARGS));

    System.out.printf("%-8s %-18s %5s %14s %14s %14s   runs (start ms / CPU ms / RSS MiB)%n", "store", "settings",
        "runs", "start ms (med)", "CPU ms (med)", "RSS MiB (med)");
    for (String store : stores) {
      for (Settings set : sets) {
        report(store, set, jar);
      }
    }
    System.out.println("sidecar = " + String.join(" ", SIDECAR_JVM) + ", environment " + SIDECAR_ENV
        + ", server " + String.join(" ", SIDECAR_ARGS) + "; AppCDS = -XX:SharedArchiveFile=" + archive);
    return 0;
  }

  private void report(String store, Settings set, Path jar) throws Exception {
    List<Measured> all = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      all.add(once(jar, store, set, idleSeconds, httpPort));
    }
    long[] starts = all.stream().mapToLong(Measured::startMillis).sorted().toArray();
    long[] cpu = all.stream().mapToLong(Measured::startCpuMillis).sorted().toArray();
    long[] rss = all.stream().mapToLong(Measured::rssMiB).sorted().toArray();
    System.out.printf("%-8s %-18s %5d %14d %14d %14d   %s%n", store, set.name(), runs, starts[starts.length / 2],
        cpu[cpu.length / 2], rss[rss.length / 2],
        all.stream().map(m -> m.startMillis() + "/" + m.startCpuMillis() + "/" + m.rssMiB()).toList());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Measured once(Path jar, String store, Settings set, int idleSeconds, String httpPort) throws Exception {
    Path dataDir = Files.createTempDirectory("ta-sidecar-");
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(set.jvm());
    command.addAll(List.of("-jar", jar.toString(), "--port", String.valueOf(port), "--store", store,
        "--data-dir", dataDir.toString()));
    if (!httpPort.equals("absent")) {
      command.addAll(List.of("--http-port", httpPort));
    }
    command.addAll(set.args());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dataDir.resolve("out.log").toFile());
    builder.environment().putAll(set.env());
    byte[] random = new byte[36];
    new SecureRandom().nextBytes(random);
    builder.environment().put("TOKEN_AUTHORITY_ADMIN_KEY", Base64.getUrlEncoder().withoutPadding().encodeToString(random));
    long started = System.nanoTime();
    Process process = builder.start();
    try {
      long servingAt = -1;
      long cpuAtServing = -1;
      long deadline = started + TimeUnit.SECONDS.toNanos(180);
      while (servingAt < 0 && System.nanoTime() < deadline && process.isAlive()) {
        // A plain connect first: a gRPC channel that found the port closed backs off for a
        // second or more before it tries again, which would be measured as start-up time.
        if (!accepts(port)) {
          Thread.sleep(2);
          continue;
        }
        if (ClassDataTraining.health(port) == ServingStatus.SERVING) {
          servingAt = System.nanoTime();
          cpuAtServing = cpuMillis(process.pid());
        }
      }
      if (servingAt < 0) {
        throw new IllegalStateException("the server did not serve: " + Files.readString(dataDir.resolve("out.log")));
      }
      Thread.sleep(TimeUnit.SECONDS.toMillis(idleSeconds));
      return new Measured(TimeUnit.NANOSECONDS.toMillis(servingAt - started), cpuAtServing, rssMiB(process.pid()));
    } finally {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      try (var files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** User plus system CPU time of a process so far (Linux, clock ticks of 10 ms), or -1. */
  private static long cpuMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long rssMiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    return -1;
  }
}
