package dev.tokenauthority.bench;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
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
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How the server does as a sidecar: time from {@code java -jar} to the first health check that
 * answers SERVING, and resident memory (VmRSS) after it has then sat idle, on the default
 * (sqlite) store, for a few JVM option sets, each run several times; prints the medians.
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

  @Option(names = "--cds-archive", defaultValue = "bench/target/token-authority-server.jsa",
      description = "Where the AppCDS archive of the 'sidecar + AppCDS' set is made (default: ${DEFAULT-VALUE}).")
  Path cdsArchive;

  @Option(names = "--http-port", defaultValue = "0",
      description = "The server's --http-port: 0 (a free port, the HTTP/JSON port served), off, or 'absent' to pass"
          + " no such flag, for a jar from before the HTTP port (default: ${DEFAULT-VALUE}).")
  String httpPort;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SidecarFootprint()).execute(args));
  }

  private record Measured(long startMillis, long rssMiB) {}

  @Override
  public Integer call() throws Exception {
    Path jar = serverJar.toAbsolutePath();
    Path archive = cdsArchive.toAbsolutePath();
    List<String> sidecar = List.of("-XX:+UseSerialGC", "-Xms16m", "-Xmx128m", "-XX:MaxMetaspaceSize=96m",
        "-XX:ReservedCodeCacheSize=48m", "-Xss512k");
    Files.deleteIfExists(archive);
    // A run that writes the archive at exit: the classes this server loads to serve.
    List<String> dump = new ArrayList<>(sidecar);
    dump.add("-XX:ArchiveClassesAtExit=" + archive);
    once(jar, dump, 2, httpPort);
    List<String> withCds = new ArrayList<>(sidecar);
    withCds.add("-XX:SharedArchiveFile=" + archive);

    System.out.printf("%-22s %5s %14s %14s   runs (start ms / RSS MiB)%n", "JVM options", "runs", "start ms (med)", "RSS MiB (med)");
    report("default (none)", jar, List.of());
    report("sidecar", jar, sidecar);
    report("sidecar + AppCDS", jar, withCds);
    System.out.println("sidecar = " + String.join(" ", sidecar));
    return 0;
  }

  private void report(String name, Path jar, List<String> options) throws Exception {
    List<Measured> all = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      all.add(once(jar, options, idleSeconds, httpPort));
    }
    long[] starts = all.stream().mapToLong(Measured::startMillis).sorted().toArray();
    long[] rss = all.stream().mapToLong(Measured::rssMiB).sorted().toArray();
    System.out.printf("%-22s %5d %14d %14d   %s%n", name, runs, starts[starts.length / 2], rss[rss.length / 2],
        all.stream().map(m -> m.startMillis() + "/" + m.rssMiB()).toList());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Measured once(Path jar, List<String> jvmOptions, int idleSeconds, String httpPort) throws Exception {
    Path dataDir = Files.createTempDirectory("ta-sidecar-");
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString(), "--port", String.valueOf(port), "--data-dir", dataDir.toString()));
    if (!httpPort.equals("absent")) {
      command.addAll(List.of("--http-port", httpPort));
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dataDir.resolve("out.log").toFile());
    byte[] random = new byte[36];
    new SecureRandom().nextBytes(random);
    builder.environment().put("TOKEN_AUTHORITY_ADMIN_KEY", Base64.getUrlEncoder().withoutPadding().encodeToString(random));
    long started = System.nanoTime();
    Process process = builder.start();
    try {
      long servingAt = -1;
      long deadline = started + TimeUnit.SECONDS.toNanos(60);
      while (servingAt < 0 && System.nanoTime() < deadline && process.isAlive()) {
        // A plain connect first: a gRPC channel that found the port closed backs off for a
        // second or more before it tries again, which would be measured as start-up time.
        if (!accepts(port)) {
          Thread.sleep(2);
          continue;
        }
        if (health(port) == ServingStatus.SERVING) {
          servingAt = System.nanoTime();
        }
      }
      if (servingAt < 0) {
        throw new IllegalStateException("the server did not serve: " + Files.readString(dataDir.resolve("out.log")));
      }
      Thread.sleep(TimeUnit.SECONDS.toMillis(idleSeconds));
      return new Measured(TimeUnit.NANOSECONDS.toMillis(servingAt - started), rssMiB(process.pid()));
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

  /** One health check on a fresh channel; null when it fails. */
  private static ServingStatus health(int port) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    } catch (RuntimeException e) {
      return null;
    } finally {
      channel.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
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
