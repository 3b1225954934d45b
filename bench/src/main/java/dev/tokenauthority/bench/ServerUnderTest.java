package dev.tokenauthority.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server jar running as its own process on a chosen store, with an admin key the
 * benchmark generated, reached over a Netty channel (and its HTTP/JSON port on a free port).
 */
final class ServerUnderTest implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on port (\\d+)");
  private static final Pattern HTTP = Pattern.compile("HTTP/JSON on port (\\d+)");
  /** How many of the server's lines a failed start reports. */
  private static final int LINES_KEPT = 20;

  private final Process process;
  private final int port;
  private final String adminKey;
  private final ManagedChannel channel;
  private final Path dataDir;
  private final int httpPort;

  private ServerUnderTest(Process process, int port, int httpPort, String adminKey, Path dataDir) {
    this.process = process;
    this.port = port;
    this.httpPort = httpPort;
    this.adminKey = adminKey;
    this.dataDir = dataDir;
    this.channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .directExecutor()
            .flowControlWindow(4 * 1024 * 1024)
            .build();
  }

  static ServerUnderTest start(Path jar, String store, List<String> jvmOptions, List<String> serverArgs)
      throws IOException, InterruptedException {
    return start(jar, store, jvmOptions, serverArgs, 60);
  }

  /** Starts the server, waiting up to {@code startSeconds} for it to listen. */
  static ServerUnderTest start(Path jar, String store, List<String> jvmOptions, List<String> serverArgs, int startSeconds)
      throws IOException, InterruptedException {
    if (!Files.isRegularFile(jar)) {
      throw new IOException("no server jar at " + jar.toAbsolutePath()
          + ": build it with ./mvnw -B package -DskipTests and run from the repository's root, or pass --server-jar");
    }
    Path dataDir = Files.createTempDirectory("ta-bench-");
    byte[] random = new byte[36];
    new SecureRandom().nextBytes(random);
    String adminKey = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString(), "--port", "0", "--http-port", "0", "--store", store,
        "--data-dir", dataDir.toString()));
    command.addAll(serverArgs);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("TOKEN_AUTHORITY_ADMIN_KEY", adminKey);
    Process process = builder.start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    CompletableFuture<Integer> httpPort = new CompletableFuture<>();
    ArrayDeque<String> lastLines = new ArrayDeque<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (!port.isDone()) {
                    if (lastLines.size() == LINES_KEPT) {
                      lastLines.removeFirst();
                    }
                    lastLines.addLast(line);
                  }
                  Matcher h = HTTP.matcher(line);
                  if (h.find()) {
                    httpPort.complete(Integer.parseInt(h.group(1)));
                  }
                  Matcher m = LISTENING.matcher(line);
                  if (m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                  } else if (line.contains("WARN") || line.contains("ERROR") || line.contains("purged")) {
                    System.err.println("  server: " + line);
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
              port.completeExceptionally(new IOException("the server exited before listening"
                  + (lastLines.isEmpty() ? ", printing nothing" : "; its last lines:\n  " + String.join("\n  ", lastLines))));
            },
            "server-output");
    reader.setDaemon(true);
    reader.start();
    try {
      int grpc = port.get(startSeconds, TimeUnit.SECONDS);
      return new ServerUnderTest(process, grpc, httpPort.getNow(-1), adminKey, dataDir);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IOException("the server did not start: " + e.getMessage(), e);
    }
  }

  ManagedChannel channel() {
    return channel;
  }

  String adminKey() {
    return adminKey;
  }

  int port() {
    return port;
  }

  /** The HTTP/JSON port, printed before the gRPC one; -1 when the server serves none. */
  int httpPort() {
    return httpPort;
  }

  /** The server's resident set size in MiB (Linux), or -1. */
  long residentMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  /** The server's process, e.g. to read its CPU time. */
  ProcessHandle process() {
    return process.toHandle();
  }

  long pid() {
    return process.pid();
  }

  /** Open file descriptors of the server (Linux), or -1. */
  long openFiles() {
    try (var fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
      return fds.count();
    } catch (IOException e) {
      return -1;
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the server at once (SIGKILL: no shutdown hook, no drain), as a crash would. */
  void kill() throws InterruptedException {
    channel.shutdownNow();
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException, IOException {
    channel.shutdownNow();
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    try (var files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
