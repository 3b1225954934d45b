package dev.tokenauthority.server;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * The training run of the class-data sharing (AppCDS) archive: started with
 * {@code -XX:ArchiveClassesAtExit=FILE}, it runs the server on the default (SQLite) store in a
 * scratch directory until a health check answers SERVING, then exits, and the JVM writes every
 * class loaded so far to the archive. A server started with {@code -XX:SharedArchiveFile=FILE}
 * then maps those classes instead of parsing them from the jar. The build runs this at package
 * time; see docs/deployment.md. The server's own output is discarded: its generated admin key
 * belongs to the scratch directory, which is deleted.
 */
public final class ClassDataTraining {
  private ClassDataTraining() {}

  /**
   * {@code args[0]}: the scratch directory (created, then deleted); any further arguments are
   * server flags used instead of the default {@code --http-port <free port>} (e.g.
   * {@code --http-port off}, for the archive of a gRPC-only server). Exits 0 either way: an
   * archive of a server that did not get to serve only starts slower, and must not fail a build.
   */
  public static void main(String[] args) throws Exception {
    Path scratch = Path.of(args.length > 0 ? args[0] : "target/cds-training");
    Files.createDirectories(scratch);
    int port = freePort();
    // A free HTTP port too, not the default 8080: a build must not depend on 8080 being free,
    // and the HTTP port's classes belong in the archive.
    List<String> serverArgs = new ArrayList<>(List.of("--port", String.valueOf(port), "--data-dir", scratch.toString()));
    if (args.length > 1) {
      serverArgs.addAll(Arrays.asList(args).subList(1, args.length));
    } else {
      serverArgs.addAll(List.of("--http-port", String.valueOf(freePort())));
    }
    PrintStream out = System.out;
    System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    // SLF4J is set up here, before the server's thread and this one's health checks both log
    // (Netty's first lines) while it is still being set up: SLF4J would then queue those lines
    // and print a warning about replaying them into the build's output.
    LoggerFactory.getILoggerFactory();
    Thread server =
        new Thread(
            () -> Main.run(serverArgs.toArray(String[]::new), Map.of(), System.out, System.err),
            "training-server");
    server.setDaemon(true);
    long started = System.nanoTime();
    server.start();
    boolean served = false;
    long deadline = started + TimeUnit.SECONDS.toNanos(120);
    while (!served && System.nanoTime() < deadline && server.isAlive()) {
      served = health(port) == ServingStatus.SERVING;
      if (!served) {
        Thread.sleep(20);
      }
    }
    out.printf("class-data training: %s after %d ms%n",
        served ? "the server served" : "WARNING: the server did not serve; the archive covers start-up only",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    delete(scratch);
    // The exit is what makes the JVM write the archive.
    System.exit(0);
  }

  /**
   * One health check of the server on this host's {@code port}, over a fresh plaintext channel;
   * null when it fails. (The bench's start-up measurement asks the same way.)
   */
  public static ServingStatus health(int port) throws InterruptedException {
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

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void delete(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
