package dev.tokenauthority.bench;

import dev.tokenauthority.client.ApiKeyCredentials;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * MintSession over gRPC, HTTP/JSON on h2c and HTTP/JSON on HTTP/1.1, and the health check of
 * each transport, all driven by one load generator written in C (nghttp2's {@code h2load}), so
 * that the ratio HTTP : gRPC is the server's and not the cost of two different Java clients
 * sharing the 2 cores with it. Alternates the workloads round by round on one server.
 *
 * <p>Needs {@code h2load} on the PATH (Debian: {@code apt-get install nghttp2-client}).
 */
@Command(name = "h2load-comparison", mixinStandardHelpOptions = true,
    description = "gRPC and HTTP/JSON MintSession side by side, measured by h2load.")
public final class H2loadComparison implements Callable<Integer> {
  private static final Pattern RATE = Pattern.compile("finished in [0-9.]+m?s, ([0-9.]+) req/s");
  private static final Pattern STATUS = Pattern.compile("status codes: (\\d+) 2xx, (\\d+) 3xx, (\\d+) 4xx, (\\d+) 5xx");
  /** h2load's traffic line; a gRPC error is an HTTP 200 with no data, so mints are checked by their bytes. */
  private static final Pattern DATA = Pattern.compile("\\((\\d+)\\) data");
  /** A minted token alone is longer than this. */
  private static final int MIN_MINT_BYTES = 200;

  @Option(names = "--server-jar", defaultValue = "server/target/token-authority-server.jar")
  Path serverJar;

  @Option(names = "--stores", split = ",", defaultValue = "memory,sqlite")
  List<String> stores;

  @Option(names = "--requests", defaultValue = "100000", description = "Requests per measured phase (default: ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--in-flight", defaultValue = "64", description = "Calls in flight (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--rounds", defaultValue = "3")
  int rounds;

  @Option(names = "--server-jvm-option")
  List<String> serverJvmOptions = new ArrayList<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new H2loadComparison()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("ta-h2load-");
    // A gRPC message: no compression, the length, the bytes.
    Files.write(work.resolve("health.grpc"), new byte[5]);
    byte[] mint = MintSessionRequest.newBuilder().setExternalUserId("user_h2load").setTtlSeconds(300).build().toByteArray();
    byte[] framed = new byte[5 + mint.length];
    framed[4] = (byte) mint.length;
    System.arraycopy(mint, 0, framed, 5, mint.length);
    Files.write(work.resolve("mint.grpc"), framed);
    Files.writeString(work.resolve("mint.json"), "{\"externalUserId\":\"user_h2load\",\"ttlSeconds\":300}");

    for (String store : stores) {
      List<String> jvm = new ArrayList<>(List.of("-Xmx2g", "-Xms2g"));
      jvm.addAll(serverJvmOptions);
      try (ServerUnderTest server = ServerUnderTest.start(serverJar, store, jvm, List.of())) {
        String key = TokenAuthorityGrpc.newBlockingStub(server.channel())
            .withCallCredentials(new ApiKeyCredentials(server.adminKey()))
            .createApiKey(CreateApiKeyRequest.newBuilder().setName("h2load").addScopes("sessions:mint").build())
            .getSecret();
        String grpc = "http://127.0.0.1:" + server.port();
        String http = "http://127.0.0.1:" + server.httpPort();
        Map<String, List<String>> workloads = new LinkedHashMap<>();
        workloads.put("grpc_health", grpcArgs(grpc + "/grpc.health.v1.Health/Check", work.resolve("health.grpc"), null));
        workloads.put("grpc_mint", grpcArgs(grpc + "/tokenauthority.v1.TokenAuthority/MintSession", work.resolve("mint.grpc"), key));
        workloads.put("h2c_health", List.of("-c", "1", "-m", Integer.toString(inFlight), http + "/healthz"));
        workloads.put("h2c_mint", jsonArgs(List.of("-c", "1", "-m", Integer.toString(inFlight)), http + "/v1/sessions", work, key));
        workloads.put("http1_health", List.of("--h1", "-c", Integer.toString(inFlight), "-m", "1", http + "/healthz"));
        workloads.put("http1_mint", jsonArgs(List.of("--h1", "-c", Integer.toString(inFlight), "-m", "1"), http + "/v1/sessions", work, key));
        System.out.printf(Locale.ROOT, "== store %s, %d in flight, %,d requests per phase%n", store, inFlight, requests);
        for (Map.Entry<String, List<String>> w : workloads.entrySet()) {
          run(w.getKey(), w.getValue(), requests); // warm-up: the server's JIT, and Armeria's
        }
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
          for (Map.Entry<String, List<String>> w : workloads.entrySet()) {
            double rate = run(w.getKey(), w.getValue(), requests);
            rates.computeIfAbsent(w.getKey(), k -> new ArrayList<>()).add(rate);
            System.out.printf(Locale.ROOT, "   round %d %-12s %,9.0f req/s%n", round, w.getKey(), rate);
          }
        }
        System.out.printf(Locale.ROOT, "   %-12s %s%n", "per round:",
            "h2c_mint/grpc_mint  http1_mint/grpc_mint  h2c_health/grpc_health  http1_health/grpc_health");
        for (int i = 0; i < rounds; i++) {
          System.out.printf(Locale.ROOT, "   round %d      %18.2f  %20.2f  %22.2f  %24.2f%n", i + 1,
              rates.get("h2c_mint").get(i) / rates.get("grpc_mint").get(i),
              rates.get("http1_mint").get(i) / rates.get("grpc_mint").get(i),
              rates.get("h2c_health").get(i) / rates.get("grpc_health").get(i),
              rates.get("http1_health").get(i) / rates.get("grpc_health").get(i));
        }
      }
    }
    return 0;
  }

  private List<String> grpcArgs(String url, Path body, String key) {
    List<String> args = new ArrayList<>(List.of("-c", "1", "-m", Integer.toString(inFlight), "-d", body.toString(),
        "-H", "content-type: application/grpc", "-H", "te: trailers"));
    if (key != null) {
      args.addAll(List.of("-H", "authorization: Bearer " + key));
    }
    args.add(url);
    return args;
  }

  private static List<String> jsonArgs(List<String> connection, String url, Path work, String key) {
    List<String> args = new ArrayList<>(connection);
    args.addAll(List.of("-d", work.resolve("mint.json").toString(), "-H", "content-type: application/json",
        "-H", "authorization: Bearer " + key, url));
    return args;
  }

  /**
   * Runs h2load for {@code n} requests; the rate, after checking that every answer was a 2xx and,
   * for a mint, carried a token.
   */
  private static double run(String workload, List<String> args, int n) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("h2load", "-n", Integer.toString(n)));
    command.addAll(args);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    StringBuilder out = new StringBuilder();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        out.append(line).append('\n');
      }
    }
    if (p.waitFor() != 0) {
      throw new IOException("h2load failed: " + out);
    }
    Matcher status = STATUS.matcher(out);
    Matcher rate = RATE.matcher(out);
    if (!status.find() || !rate.find() || Long.parseLong(status.group(1)) != n) {
      throw new IOException("not every request was answered 2xx: " + out);
    }
    Matcher data = DATA.matcher(out);
    if (workload.endsWith("_mint") && (!data.find() || Long.parseLong(data.group(1)) < (long) n * MIN_MINT_BYTES)) {
      throw new IOException(workload + ": not every answer carried a token: " + out);
    }
    return Double.parseDouble(rate.group(1));
  }
}
