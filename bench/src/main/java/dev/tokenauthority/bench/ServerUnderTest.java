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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server jar running as its own process on a chosen store, with an admin key the
 * benchmark generated, reached over a Netty channel.
 */
final class ServerUnderTest implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on port (\\d+)");

  private final Process process;
  private final int port;
  private final String adminKey;
  private final ManagedChannel channel;
  private final Path dataDir;

  private ServerUnderTest(Process process, int port, String adminKey, Path dataDir) {
    this.process = process;
    this.port = port;
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
    Path dataDir = Files.createTempDirectory("ta-bench-");
    byte[] random = new byte[36];
    new SecureRandom().nextBytes(random);
    String adminKey = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString(), "--port", "0", "--store", store, "--data-dir", dataDir.toString()));
    command.addAll(serverArgs);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("TOKEN_AUTHORITY_ADMIN_KEY", adminKey);
    Process process = builder.start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
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
              port.completeExceptionally(new IOException("the server exited before listening"));
            },
            "server-output");
    reader.setDaemon(true);
    reader.start();
    try {
      return new ServerUnderTest(process, port.get(180, TimeUnit.SECONDS), adminKey, dataDir);
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

  long pid() {
    return process.pid();
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
