package dev.tokenauthority.server.process;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.tokenauthority.v1.TenantAdminGrpc;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged server jar running as a real child process ({@code java -jar ... --port 0
 * --data-dir DIR --http-port 0 ...}): its stdout and stderr are captured by background threads, the port is
 * read from the {@code listening on port N} log line, and it can be stopped by SIGTERM or
 * SIGKILL. Closing it kills whatever is still running and closes its channels.
 */
final class ServerProcess implements AutoCloseable {
  // Generous: a loaded 2-core machine has taken over 30 s to start a JVM; a healthy start takes ~1 s.
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  static final Duration CALL_DEADLINE = Duration.ofSeconds(15);
  private static final Pattern LISTENING = Pattern.compile("listening on port (\\d+)");
  private static final Pattern METRICS = Pattern.compile("metrics on port (\\d+)");
  private static final Pattern HTTP = Pattern.compile("HTTP/JSON on port (\\d+)");
  private static final Pattern KID = Pattern.compile("\"kid\"\\s*:\\s*\"([^\"]+)\"");
  private static final String ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final SecureRandom RANDOM = new SecureRandom();
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Process process;
  private final List<String> command;
  private final StringBuffer stdout = new StringBuffer();
  private final StringBuffer stderr = new StringBuffer();
  private final Thread stdoutReader;
  private final Thread stderrReader;
  private final CompletableFuture<Integer> listening = new CompletableFuture<>();
  private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();
  private volatile ManagedChannel channel;

  private ServerProcess(Process process, List<String> command) {
    this.process = process;
    this.command = command;
    this.stdoutReader = reader(process.getInputStream(), stdout, "stdout");
    this.stderrReader = reader(process.getErrorStream(), stderr, "stderr");
    // Both readers hit EOF once the process is gone; if no port was printed by then, it never will be.
    process.onExit().thenRun(() -> {
      joinQuietly(stdoutReader);
      joinQuietly(stderrReader);
      listening.completeExceptionally(
          new IllegalStateException("the server exited with " + process.exitValue() + " before it listened"));
    });
  }

  /** A random secret of 48 letters and digits, fresh for every test (never a literal). */
  static String randomSecret() {
    char[] out = new char[48];
    for (int i = 0; i < out.length; i++) {
      out[i] = ALPHANUMERIC.charAt(RANDOM.nextInt(ALPHANUMERIC.length()));
    }
    return new String(out);
  }

  /** The shaded jar, as failsafe passes it; falls back to the usual build location. */
  static Path serverJar() {
    String configured = System.getProperty("tokenauthority.serverJar");
    Path jar = configured != null && !configured.isBlank()
        ? Paths.get(configured)
        : Paths.get("target", "token-authority-server.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("server jar not found at " + jar.toAbsolutePath()
          + "; build it with ./mvnw package (or set -Dtokenauthority.serverJar)");
    }
    return jar.toAbsolutePath();
  }

  /**
   * Starts {@code java -jar <jar> --port 0 --data-dir <dataDir> <extraArgs>} without waiting for
   * it. The child gets this JVM's environment minus every {@code TOKEN_AUTHORITY_*} variable,
   * plus {@code env}.
   */
  static ServerProcess launch(Path dataDir, Map<String, String> env, String... extraArgs) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-jar");
    command.add(serverJar().toString());
    command.add("--port");
    command.add("0");
    command.add("--data-dir");
    command.add(dataDir.toAbsolutePath().toString());
    if (!List.of(extraArgs).contains("--http-port")) {
      // Never the default 8080: tests run side by side.
      command.addAll(List.of("--http-port", "0"));
    }
    command.addAll(List.of(extraArgs));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dataDir.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("TOKEN_AUTHORITY_"));
    builder.environment().putAll(env);
    return new ServerProcess(builder.start(), List.copyOf(command));
  }

  private Thread reader(InputStream in, StringBuffer sink, String name) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          sink.append(line).append('\n');
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            listening.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (IOException e) {
        sink.append("<").append(name).append(" read failed: ").append(e.getMessage()).append(">\n");
      }
    }, "server-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Waits (bounded) for the {@code listening on port N} line and returns N. */
  int awaitListening(Duration timeout) {
    try {
      return listening.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the server printed no 'listening on port N' within " + timeout + "\n" + describe());
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause().getMessage() + "\n" + describe(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the server", e);
    }
  }

  /** The port from the log line; the server must have been awaited. */
  int port() {
    if (!listening.isDone() || listening.isCompletedExceptionally()) {
      throw new IllegalStateException("the server is not listening");
    }
    return listening.join();
  }

  /** One plaintext Netty channel to 127.0.0.1:port, closed with this process. */
  synchronized ManagedChannel channel() {
    if (channel == null) {
      channel = newChannel();
    }
    return channel;
  }

  /** The HTTP/JSON port, from its log line (the server must be listening). */
  int httpPort() {
    Matcher m = HTTP.matcher(stdout);
    if (!m.find()) {
      throw new AssertionError("the server printed no 'HTTP/JSON on port N'\n" + describe());
    }
    return Integer.parseInt(m.group(1));
  }

  /** The port of {@code /metrics}, from its log line (the server must be listening). */
  int metricsPort() {
    Matcher m = METRICS.matcher(stdout);
    if (!m.find()) {
      throw new AssertionError("the server printed no 'metrics on port N'\n" + describe());
    }
    return Integer.parseInt(m.group(1));
  }

  /** A TLS channel to localhost:port with these credentials, closed with this process. */
  ManagedChannel tlsChannel(io.grpc.ChannelCredentials credentials) {
    ManagedChannel c = NettyChannelBuilder.forAddress("localhost", port(), credentials).build();
    channels.add(c);
    return c;
  }

  /** A separate channel (its own connection), closed with this process. */
  ManagedChannel newChannel() {
    ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext().build();
    channels.add(c);
    return c;
  }

  static ClientInterceptor bearer(String secret) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + secret);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  /** A blocking stub authenticated with {@code secret}, with a deadline from now. */
  TokenAuthorityGrpc.TokenAuthorityBlockingStub stub(String secret) {
    return TokenAuthorityGrpc.newBlockingStub(channel())
        .withInterceptors(bearer(secret))
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A future stub authenticated with {@code secret}, with a deadline from now. */
  TokenAuthorityGrpc.TokenAuthorityFutureStub futureStub(String secret) {
    return TokenAuthorityGrpc.newFutureStub(channel())
        .withInterceptors(bearer(secret))
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A TenantAdmin blocking stub authenticated with {@code secret}, with a deadline from now. */
  TenantAdminGrpc.TenantAdminBlockingStub tenantAdmin(String secret) {
    return TenantAdminGrpc.newBlockingStub(channel())
        .withInterceptors(bearer(secret))
        .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  HealthGrpc.HealthBlockingStub health() {
    return HealthGrpc.newBlockingStub(channel()).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * SIGKILL; waits for the exit and returns its code. Sent through the process handle:
   * {@code Process.destroyForcibly()} sends the same signal but also closes our end of the
   * output pipes, losing the last lines.
   */
  int kill9() {
    process.toHandle().destroyForcibly();
    return waitFor(Duration.ofSeconds(10));
  }

  /** SIGTERM (as {@code Process.destroy()} on Linux, minus closing the output pipes); does not wait. */
  void sigterm() {
    if (!process.toHandle().destroy()) {
      throw new IllegalStateException("cannot signal process " + process.pid());
    }
  }

  /**
   * Waits for the process to exit and for its output to be fully read.
   *
   * @return the exit code
   * @throws AssertionError when it is still running after {@code timeout}
   */
  int waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("the server did not exit within " + timeout + "\n" + describe());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the server to exit", e);
    }
    joinQuietly(stdoutReader);
    joinQuietly(stderrReader);
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  String stdout() {
    return stdout.toString();
  }

  String stderr() {
    return stderr.toString();
  }

  /** Everything captured so far: stdout, then stderr. */
  String output() {
    return stdout.toString() + stderr;
  }

  String describe() {
    return "command: " + String.join(" ", command) + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    if (process.isAlive()) {
      process.toHandle().destroyForcibly();
    }
    try {
      process.waitFor(10, TimeUnit.SECONDS);
      for (ManagedChannel c : channels) {
        c.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    joinQuietly(stdoutReader);
    joinQuietly(stderrReader);
  }

  private static void joinQuietly(Thread t) {
    try {
      t.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The {@code google.rpc.ErrorInfo} reason of a failed call, or null when it has none. */
  static String reason(Throwable t) {
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status == null) {
      return null;
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class).getReason();
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError("an unreadable ErrorInfo", e);
        }
      }
    }
    return null;
  }

  /** The {@code kid} of a compact JWS's protected header. */
  static String kidOf(String jws) {
    String header = new String(Base64.getUrlDecoder().decode(jws.substring(0, jws.indexOf('.'))), StandardCharsets.UTF_8);
    Matcher m = KID.matcher(header);
    if (!m.find()) {
      throw new AssertionError("no kid in the token header " + header);
    }
    return m.group(1);
  }
}
