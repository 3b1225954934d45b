package dev.tokenauthority.bench;

import com.google.rpc.ErrorInfo;
import dev.tokenauthority.client.ApiKeyCredentials;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Soak: mixed load (mint, redeem, a redeem raced on both replicas, introspect) for N minutes
 * against two server replicas on one PostgreSQL, while PostgreSQL is stopped and started and one
 * replica is killed with SIGKILL and started again, in turns. Then it checks the ledger of what
 * the clients were told against the database: no token used more often than it allows, no
 * acknowledged mint missing, no acknowledged redeem unrecorded, no use consumed by a redeem that
 * was told it failed; and it reports the surviving replica's RSS and open files minute by minute.
 * Exit code 0 when every check holds, 1 otherwise.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, description = "Two replicas, PostgreSQL restarts and a kill -9, for N minutes.")
public final class Soak implements Callable<Integer> {
  @Option(names = "--minutes", defaultValue = "30", description = "How long the load runs (default ${DEFAULT-VALUE}).")
  int minutes;

  @Option(names = "--fault-every", defaultValue = "5", description = "Minutes between faults, alternating a PostgreSQL restart and a replica kill (default ${DEFAULT-VALUE}).")
  int faultEveryMinutes;

  @Option(names = "--pg-down-seconds", defaultValue = "20", description = "How long PostgreSQL stays stopped (default ${DEFAULT-VALUE}).")
  int pgDownSeconds;

  @Option(names = "--rate", defaultValue = "200", description = "Calls a second, all clients together (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(names = "--clients", defaultValue = "16", description = "Client threads (default ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--server-jar", defaultValue = "server/target/token-authority-server.jar")
  Path serverJar;

  @Option(names = "--server-heap", defaultValue = "256m", description = "Each replica's -Xmx (default ${DEFAULT-VALUE}).")
  String serverHeap;

  /** What the clients were told about one minted token. */
  static final class Minted {
    final String sessionId;
    final String token;
    final int maxUses;
    final long expireEpochSecond;
    /** Redeems answered OK. */
    final AtomicInteger acknowledged = new AtomicInteger();
    /** Redeems whose outcome the client cannot know (the replica died, the deadline passed). */
    final AtomicInteger unknown = new AtomicInteger();

    Minted(String sessionId, String token, int maxUses, long expireEpochSecond) {
      this.sessionId = sessionId;
      this.token = token;
      this.maxUses = maxUses;
      this.expireEpochSecond = expireEpochSecond;
    }
  }

  private final Map<String, Minted> ledger = new ConcurrentHashMap<>();
  private final List<Minted> pickable = new ArrayList<>();
  private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
  private final AtomicLong unknownMints = new AtomicLong();
  private final AtomicReferenceArray<ServerUnderTest> replicas = new AtomicReferenceArray<>(2);
  private final AtomicReferenceArray<String> keys = new AtomicReferenceArray<>(2);
  private volatile boolean running = true;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Soak()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path pgData = Files.createTempDirectory("ta-soak-pg-");
    int pgPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      pgPort = probe.getLocalPort();
    }
    EmbeddedPostgres[] pg = {startPostgres(pgData, pgPort)};
    try (Connection c = DriverManager.getConnection(pg[0].getJdbcUrl("postgres", "postgres")); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE soak");
    }
    try {
      return run(pg, pgData, pgPort);
    } finally {
      running = false;
      for (int i = 0; i < 2; i++) {
        ServerUnderTest server = replicas.get(i);
        if (server != null) {
          server.close();
        }
      }
      pg[0].close();
    }
  }

  private int run(EmbeddedPostgres[] pg, Path pgData, int pgPort) throws Exception {
    String url = pg[0].getJdbcUrl("postgres", "soak");
    List<String> jvm = List.of("-Xmx" + serverHeap);
    System.out.printf(Locale.ROOT, "soak: %d min, %d calls/s, %d clients, a fault every %d min; PostgreSQL on port %d%n",
        minutes, rate, clients, faultEveryMinutes, pgPort);
    for (int i = 0; i < 2; i++) {
      startReplica(i, url, jvm);
    }
    List<long[]> samples = new ArrayList<>(); // minute, rss MiB, fds (replica 0, the survivor)
    ExecutorService load = Executors.newFixedThreadPool(clients);
    CountDownLatch done = new CountDownLatch(clients);
    long periodNanos = TimeUnit.SECONDS.toNanos(1) * clients / Math.max(1, rate);
    for (int i = 0; i < clients; i++) {
      load.execute(() -> {
        try {
          long next = System.nanoTime();
          while (running) {
            oneCall();
            next += periodNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait);
            } else {
              next = System.nanoTime();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          done.countDown();
        }
      });
    }
    long start = System.nanoTime();
    int faults = 0;
    for (int minute = 1; minute <= minutes; minute++) {
      long until = start + TimeUnit.MINUTES.toNanos(minute);
      while (System.nanoTime() < until) {
        Thread.sleep(Math.max(1, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
      }
      ServerUnderTest survivor = replicas.get(0);
      long[] sample = {minute, survivor.residentMiB(), survivor.openFiles()};
      samples.add(sample);
      System.out.printf(Locale.ROOT, "minute %2d: replica 0 RSS %d MiB, %d open files; replica 1 RSS %d MiB, %d open files; %s%n",
          minute, sample[1], sample[2], replicas.get(1).residentMiB(), replicas.get(1).openFiles(), outcomes);
      if (faultEveryMinutes > 0 && minute % faultEveryMinutes == 0 && minute < minutes) {
        faults++;
        if (faults % 2 == 1) {
          System.out.printf(Locale.ROOT, "minute %2d: stopping PostgreSQL for %d s%n", minute, pgDownSeconds);
          pg[0].close();
          Thread.sleep(TimeUnit.SECONDS.toMillis(pgDownSeconds));
          pg[0] = startPostgres(pgData, pgPort);
          System.out.printf(Locale.ROOT, "minute %2d: PostgreSQL started again%n", minute);
        } else {
          System.out.printf(Locale.ROOT, "minute %2d: kill -9 replica 1 (pid %d), starting it again%n", minute, replicas.get(1).pid());
          replicas.get(1).kill();
          startReplica(1, url, jvm);
        }
      }
    }
    running = false;
    done.await(60, TimeUnit.SECONDS);
    load.shutdownNow();
    int failures = check(url);
    long[] first = samples.get(0);
    long[] last = samples.get(samples.size() - 1);
    System.out.printf(Locale.ROOT, "replica 0 (never killed): RSS %d MiB at minute %d, %d MiB at minute %d; open files %d then %d%n",
        first[1], first[0], last[1], last[0], first[2], last[2]);
    System.out.println(failures == 0 ? "soak: every check holds" : "soak: " + failures + " checks FAILED");
    return failures == 0 ? 0 : 1;
  }

  private static EmbeddedPostgres startPostgres(Path data, int port) throws java.io.IOException {
    return EmbeddedPostgres.builder()
        .setDataDirectory(data)
        .setCleanDataDirectory(false)
        .setPort(port)
        .setServerConfig("synchronous_commit", "on")
        .start();
  }

  private void startReplica(int i, String url, List<String> jvm) throws Exception {
    // A busy machine can take a minute to start a JVM; give it three.
    ServerUnderTest server = ServerUnderTest.start(serverJar, url, jvm, List.of(), 180);
    var admin = TokenAuthorityGrpc.newBlockingStub(server.channel()).withCallCredentials(new ApiKeyCredentials(server.adminKey()));
    String key = null;
    for (int attempt = 0; key == null; attempt++) {
      try {
        key = admin.withDeadlineAfter(5, TimeUnit.SECONDS).createApiKey(CreateApiKeyRequest.newBuilder().setName("soak-" + i)
            .addScopes("sessions:mint").addScopes("sessions:redeem").build()).getSecret();
      } catch (StatusRuntimeException e) {
        if (attempt > 60) {
          throw e;
        }
        Thread.sleep(1000);
      }
    }
    keys.set(i, key);
    replicas.set(i, server);
    System.out.printf(Locale.ROOT, "replica %d: pid %d, port %d%n", i, server.pid(), server.port());
  }

  private TokenAuthorityGrpc.TokenAuthorityBlockingStub stub(int replica) {
    return TokenAuthorityGrpc.newBlockingStub(replicas.get(replica).channel())
        .withCallCredentials(new ApiKeyCredentials(keys.get(replica)))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private void oneCall() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int replica = random.nextInt(2);
    int dice = random.nextInt(100);
    Minted target = dice >= 45 ? pick(random) : null;
    if (target == null) {
      mint(replica, random);
    } else if (dice < 85) {
      redeem(replica, target);
    } else if (dice < 90) {
      // The same token on both replicas at once: at most its uses may succeed between them.
      Thread other = new Thread(() -> redeem(1 - replica, target));
      other.start();
      redeem(replica, target);
      try {
        other.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      try {
        stub(replica).introspect(IntrospectRequest.newBuilder().setToken(target.token).build());
        count("introspect ok");
      } catch (StatusRuntimeException e) {
        count("introspect " + classify(e));
      }
    }
  }

  private Minted pick(ThreadLocalRandom random) {
    synchronized (pickable) {
      if (pickable.isEmpty()) {
        return null;
      }
      // Mostly recent tokens, some old ones (already used: TOKEN_ALREADY_USED).
      int n = pickable.size();
      int i = random.nextInt(4) == 0 ? random.nextInt(n) : n - 1 - random.nextInt(Math.min(n, 200));
      return pickable.get(i);
    }
  }

  private void mint(int replica, ThreadLocalRandom random) {
    int maxUses = random.nextInt(10) == 0 ? 3 : 1;
    try {
      MintSessionResponse r = stub(replica).mintSession(MintSessionRequest.newBuilder()
          .setExternalUserId("user-" + random.nextInt(10_000)).setTtlSeconds(3600).setMaxUses(maxUses).build());
      Minted m = new Minted(r.getSessionId(), r.getToken(), maxUses, r.getExpireTime().getSeconds());
      ledger.put(m.sessionId, m);
      synchronized (pickable) {
        pickable.add(m);
      }
      count("mint ok");
    } catch (StatusRuntimeException e) {
      String kind = classify(e);
      if (kind.startsWith("unknown")) {
        unknownMints.incrementAndGet();
      }
      count("mint " + kind);
    }
  }

  private void redeem(int replica, Minted m) {
    try {
      stub(replica).redeem(RedeemRequest.newBuilder().setToken(m.token).build());
      m.acknowledged.incrementAndGet();
      count("redeem ok");
    } catch (StatusRuntimeException e) {
      String kind = classify(e);
      if (kind.startsWith("unknown")) {
        m.unknown.incrementAndGet();
      }
      count("redeem " + kind);
    }
  }

  /**
   * What a failed call tells the client: a refusal with a reason (nothing was done), or an
   * outcome it cannot know (the connection died, the deadline passed, the store could not say
   * whether the commit happened).
   */
  static String classify(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (com.google.protobuf.Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            ErrorInfo info = detail.unpack(ErrorInfo.class);
            if ("unknown".equals(info.getMetadataOrDefault("commit_state", ""))) {
              return "unknown:" + info.getReason();
            }
            return info.getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // fall through
          }
        }
      }
    }
    Status.Code code = e.getStatus().getCode();
    return "unknown:" + code;
  }

  private void count(String outcome) {
    outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
  }

  /** The ledger against the database; prints each violation (the first few) and returns how many. */
  private int check(String url) throws Exception {
    Map<String, int[]> stored = new HashMap<>();
    for (int attempt = 0; ; attempt++) {
      try (Connection c = DriverManager.getConnection(url, "postgres", "");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT id, max_uses, uses_remaining FROM sessions")) {
        while (rs.next()) {
          stored.put(rs.getString(1), new int[] {rs.getInt(2), rs.getInt(3)});
        }
        break;
      } catch (java.sql.SQLException e) {
        if (attempt > 30) {
          throw e;
        }
        Thread.sleep(1000);
      }
    }
    long now = Instant.now().getEpochSecond();
    int missing = 0, overUsed = 0, lostRedeems = 0, phantomUses = 0, expired = 0;
    long acknowledgedRedeems = 0, unknownRedeems = 0;
    for (Minted m : ledger.values()) {
      acknowledgedRedeems += m.acknowledged.get();
      unknownRedeems += m.unknown.get();
      int[] row = stored.get(m.sessionId);
      if (row == null) {
        if (m.expireEpochSecond < now) {
          expired++;
        } else if (missing++ < 5) {
          System.out.println("  MISSING: acknowledged mint " + m.sessionId + " is not in the store");
        }
        continue;
      }
      int used = row[0] - row[1];
      if (m.acknowledged.get() > m.maxUses && overUsed++ < 5) {
        System.out.printf("  OVER-USED: %s redeemed %d times (max %d)%n", m.sessionId, m.acknowledged.get(), m.maxUses);
      }
      if (used < m.acknowledged.get() && lostRedeems++ < 5) {
        System.out.printf("  LOST: %s had %d redeems acknowledged, the store counts %d uses%n", m.sessionId, m.acknowledged.get(), used);
      }
      if (used > m.acknowledged.get() + m.unknown.get() && phantomUses++ < 5) {
        System.out.printf("  PHANTOM: %s has %d uses, %d acknowledged and %d unknown: a redeem told it failed used the token%n",
            m.sessionId, used, m.acknowledged.get(), m.unknown.get());
      }
    }
    System.out.printf(Locale.ROOT,
        "ledger: %,d acknowledged mints (%,d expired since), %,d mints of unknown outcome; %,d acknowledged redeems, %,d of unknown outcome%n",
        ledger.size(), expired, unknownMints.get(), acknowledgedRedeems, unknownRedeems);
    System.out.printf(Locale.ROOT, "checks: %d missing mints, %d tokens used beyond max_uses, %d acknowledged redeems lost, %d uses by failed redeems%n",
        missing, overUsed, lostRedeems, phantomUses);
    System.out.println("outcomes: " + new java.util.TreeMap<>(outcomes));
    return missing + overUsed + lostRedeems + phantomUses;
  }
}
