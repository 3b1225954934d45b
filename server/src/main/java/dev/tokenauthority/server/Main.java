package dev.tokenauthority.server;

import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.store.postgres.PostgresStore;
import dev.tokenauthority.server.store.sqlite.SqliteStore;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The server's command line: reads the settings, builds the graph, serves until SIGTERM. */
@Command(
    name = "token-authority",
    mixinStandardHelpOptions = true,
    version = "token-authority 0.1.0",
    sortOptions = false,
    description = "A gRPC token authority: exchanges API keys for short-lived, single-use session tokens.",
    footer = {
      "",
      "Environment: TOKEN_AUTHORITY_ADMIN_KEY (an admin secret of at least 32 characters; never a flag,",
      "so that it does not show in the process list), TOKEN_AUTHORITY_STORE_PASSWORD (the PostgreSQL",
      "password when the URL carries none) and TOKEN_AUTHORITY_<OPTION> for each option above."
    })
public final class Main implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @Option(names = "--port", defaultValue = "${env:TOKEN_AUTHORITY_PORT:-50051}",
      description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_PORT.")
  int port;

  @Option(names = "--data-dir", defaultValue = "${env:TOKEN_AUTHORITY_DATA_DIR:-./data}",
      description = "Directory of the sqlite store (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_DATA_DIR.")
  Path dataDir;

  @Option(names = "--store", defaultValue = "${env:TOKEN_AUTHORITY_STORE:-sqlite}",
      description = "sqlite (a file in the data dir), memory (lost on exit), or a jdbc:postgresql:// URL"
          + " (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_STORE.")
  String store;

  @Option(names = "--api-key-prefix", defaultValue = "${env:TOKEN_AUTHORITY_API_KEY_PREFIX:-sk_}",
      description = "Prefix of new API key secrets (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_API_KEY_PREFIX.")
  String apiKeyPrefix;

  @Option(names = "--issuer", defaultValue = "${env:TOKEN_AUTHORITY_ISSUER:-token-authority}",
      description = "The iss claim of session tokens (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_ISSUER.")
  String issuer;

  @Option(names = "--shutdown-grace", defaultValue = "${env:TOKEN_AUTHORITY_SHUTDOWN_GRACE:-20s}",
      converter = DurationConverter.class,
      description = "How long in-flight calls may finish after SIGTERM (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_SHUTDOWN_GRACE.")
  Duration shutdownGrace;

  @Option(names = "--purge-interval", defaultValue = "${env:TOKEN_AUTHORITY_PURGE_INTERVAL:-30s}",
      converter = DurationConverter.class,
      description = "How often expired sessions are deleted (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_PURGE_INTERVAL.")
  Duration purgeInterval;

  @Option(names = "--executor-threads", defaultValue = "${env:TOKEN_AUTHORITY_EXECUTOR_THREADS:-0}",
      description = "Threads that run calls; 0 means one per core, at least 2; -1 means grpc's default"
          + " unbounded pool (default: ${DEFAULT-VALUE}). Env TOKEN_AUTHORITY_EXECUTOR_THREADS.")
  int executorThreads;

  private final CountDownLatch stopRequested = new CountDownLatch(1);

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }

  @Override
  public Integer call() throws Exception {
    if (executorThreads == 0) {
      executorThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
    }
    // Before anything slow: a SIGTERM during start-up still ends in an orderly stop and exit 0.
    installSignalHandlers();
    Optional<String> adminSecret = Optional.ofNullable(System.getenv("TOKEN_AUTHORITY_ADMIN_KEY")).filter(s -> !s.isEmpty());
    Store opened;
    try {
      opened = openStore();
    } catch (IllegalArgumentException | StoreUnavailableException e) {
      System.err.println("token-authority: " + e.getMessage());
      return 2;
    }
    try (Store store = opened) {
      Authority.Settings settings =
          new Authority.Settings(apiKeyPrefix, issuer, Authority.Settings.CACHE_TTL, Duration.ofSeconds(30));
      Authority authority;
      Optional<String> generated;
      try {
        authority = new Authority(store, settings, Clock.systemUTC());
        generated = authority.ensureAdminKey(adminSecret);
      } catch (IllegalArgumentException e) {
        System.err.println("token-authority: " + e.getMessage());
        return 2;
      }
      NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(port));
      if (executorThreads > 0) {
        // Handlers never wait for a commit (writes complete asynchronously), so a pool as large
        // as the machine beats grpc's default unbounded pool: no thread handoff per call.
        builder.executor(new ForkJoinPool(executorThreads, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, true));
      }
      TokenAuthorityServer server = new TokenAuthorityServer(builder, authority, purgeInterval).start();
      generated.ifPresent(Main::printAdminKey);
      log.info("token-authority listening on port {} (store {})", server.port(), describeStore(store));
      stopRequested.await();
      log.info("shutting down: draining in-flight calls for up to {} ms", shutdownGrace.toMillis());
      server.stop(shutdownGrace);
    }
    log.info("stopped");
    return 0;
  }

  private Store openStore() {
    String kind = store.toLowerCase(Locale.ROOT);
    if (kind.equals("memory")) {
      return new MemoryStore();
    }
    if (kind.equals("sqlite")) {
      return SqliteStore.open(dataDir, Duration.ofSeconds(5));
    }
    if (kind.startsWith(PostgresStore.URL_PREFIX)) {
      return PostgresStore.open(store, System.getenv("TOKEN_AUTHORITY_STORE_PASSWORD"), Duration.ofSeconds(2));
    }
    throw new IllegalArgumentException("--store must be sqlite, memory or a jdbc:postgresql:// URL, not '" + store + "'");
  }

  private String describeStore(Store s) {
    return switch (s.kind()) {
      case "sqlite" -> "sqlite in " + dataDir.toAbsolutePath().normalize();
      case "postgres" -> "postgres at " + PostgresStore.redact(store);
      default -> s.kind();
    };
  }

  /** The generated admin secret goes to stdout once, never to the log. */
  private static void printAdminKey(String secret) {
    PrintStream out = System.out;
    out.println();
    out.println("==================================================================");
    out.println(" Admin API key (shown once; store it now, only its hash is kept):");
    out.println("   " + secret);
    out.println("==================================================================");
    out.println();
    out.flush();
  }

  @SuppressWarnings("restriction")
  private void installSignalHandlers() {
    // Handling TERM ourselves (rather than in a shutdown hook) lets an orderly stop exit 0.
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stopRequested.countDown());
      } catch (IllegalArgumentException e) {
        log.debug("cannot handle SIG{} here", name);
      }
    }
  }

  /** Reads {@code 20s}, {@code 500ms}, {@code 2m} or ISO-8601 {@code PT20S}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        if (v.startsWith("pt")) {
          return Duration.parse(v.toUpperCase(Locale.ROOT));
        }
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        switch (v.charAt(v.length() - 1)) {
          case 's':
            return Duration.ofSeconds(n);
          case 'm':
            return Duration.ofMinutes(n);
          case 'h':
            return Duration.ofHours(n);
          default:
            break;
        }
      } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
        // fall through to the clear message below
      }
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 20s, 500ms or 2m");
    }
  }
}
