package dev.tokenauthority.server;

import com.google.common.base.Throwables;
import dev.tokenauthority.contract.SessionTokens;
import dev.tokenauthority.server.apikey.ApiKeySecrets;
import dev.tokenauthority.server.apikey.ApiKeyService;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.config.ConfigFile;
import dev.tokenauthority.server.config.FileProblems;
import dev.tokenauthority.server.config.OptionConverters;
import dev.tokenauthority.server.config.OptionConverters.DurationConverter;
import dev.tokenauthority.server.config.OptionConverters.HttpPortConverter;
import dev.tokenauthority.server.config.OptionConverters.IntConverter;
import dev.tokenauthority.server.config.OptionConverters.OnOffConverter;
import dev.tokenauthority.server.config.OptionConverters.PortConverter;
import dev.tokenauthority.server.config.SettingException;
import dev.tokenauthority.server.config.OptionsHelp;
import dev.tokenauthority.server.config.SettingsProvider;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.error.UnreadableStoredDataException;
import dev.tokenauthority.server.http.HttpGateway;
import dev.tokenauthority.server.logging.JulBridge;
import dev.tokenauthority.server.logging.NonBlockingConsoleAppender;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.server.metrics.TimedStore;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.store.postgres.PostgresStores;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.grpc.ClientCertificateInterceptor;
import dev.tokenauthority.server.netty.OpenConnections;
import dev.tokenauthority.server.signing.NativeEd25519;
import dev.tokenauthority.server.tls.ServerTls;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The server's command line: reads the settings (flag, then {@code TOKEN_AUTHORITY_*}
 * environment variable, then configuration file, then built-in default), builds the graph,
 * serves until SIGTERM. A bad setting stops the start with exit code 2 and one line naming it.
 */
@Command(
    name = "token-authority",
    mixinStandardHelpOptions = true,
    version = "token-authority 0.1.0",
    sortOptions = false,
    usageHelpWidth = 100,
    description = {
      "A token authority over gRPC and HTTP/JSON: exchanges API keys for short-lived, single-use session tokens.",
      "",
      "Every setting is a flag, an environment variable and a key of the --config file: a flag beats"
          + " the environment, which beats the file, which beats the default.",
      ""
    },
    optionListHeading = "Settings (flag, environment variable, config file key, default):%n",
    footer = {
      "",
      "Environment only: TOKEN_AUTHORITY_ADMIN_KEY (an admin secret of at least 32 characters; never a"
          + " flag, so that it does not show in the process list) and TOKEN_AUTHORITY_STORE_PASSWORD"
          + " (the PostgreSQL password when the URL carries none)."
    })
public final class Main implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  static final int EXIT_BAD_SETTING = 2;
  /** The environment the settings were read from (System.getenv() but in tests). */
  private Map<String, String> env = Map.of();
  /** ForkJoinPool's own limit. */
  static final int MAX_EXECUTOR_THREADS = 32767;

  @Option(names = "--config", paramLabel = "FILE",
      description = "A properties file of settings, one 'key = value' a line, the keys being the option names"
          + " without dashes (port = 50051). Unknown keys stop the start.")
  Path config;

  @Option(names = "--port", paramLabel = "N", defaultValue = "50051", converter = PortConverter.class,
      description = "Port to listen on; 0 picks a free one and the log prints it.")
  int port;

  @Option(names = "--http-port", paramLabel = "N|off", defaultValue = "8080", converter = HttpPortConverter.class,
      description = "Port of the HTTP/JSON API (the same calls as gRPC, routes in /openapi.json); 0 picks a free one"
          + " and the log prints it; off serves none. HTTPS with the --tls-* settings.")
  int httpPort;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./data",
      description = "Directory of the sqlite store's file token-authority.db.")
  Path dataDir;

  @Option(names = "--store", paramLabel = "STORE", defaultValue = "sqlite",
      description = "sqlite (a file in the data dir), memory (lost on exit), or a jdbc:postgresql:// URL"
          + " shared by several replicas.")
  String store;

  @Option(names = "--api-key-prefix", paramLabel = "PREFIX", defaultValue = Authority.Settings.DEFAULT_API_KEY_PREFIX,
      description = "Prefix of new API key secrets: 1-15 lowercase letters or digits and '_'.")
  String apiKeyPrefix;

  @Option(names = "--issuer", paramLabel = "ISS", defaultValue = SessionTokens.DEFAULT_ISSUER,
      description = "The iss claim of session tokens.")
  String issuer;

  @Option(names = "--shutdown-grace", paramLabel = "DURATION", defaultValue = "20s", converter = DurationConverter.class,
      description = "How long in-flight calls may finish after SIGTERM (20s, 500ms, 2m).")
  Duration shutdownGrace;

  @Option(names = "--purge-interval", paramLabel = "DURATION", defaultValue = "30s", converter = DurationConverter.class,
      description = "How often expired sessions are deleted.")
  Duration purgeInterval;

  @Option(names = "--executor-threads", paramLabel = "N", defaultValue = "0", converter = IntConverter.class,
      description = "Threads that run calls; 0 means one per core, at least 2; -1 means grpc's default unbounded pool.")
  int executorThreads;

  @Option(names = "--native-signing", paramLabel = "on|off", arity = "1", defaultValue = "on", converter = OnOffConverter.class,
      description = "Sign session tokens with AWS-LC's Ed25519 (Amazon Corretto Crypto Provider), about four times"
          + " faster than BouncyCastle, where its native library loads (Linux x86-64); it loads in the background"
          + " at the first mint, BouncyCastle signing until then. The same signatures either way.")
  boolean nativeSigning;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate chain (leaf first): serve TLS only. Needs --tls-key. Reloaded on change.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1, unencrypted). Reloaded on change.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "PEM CA certificates: require a client certificate signed by one of them (mTLS) and refuse"
          + " connections without one. Needs --tls-cert. Reloaded on change.")
  Path tlsClientCa;

  @Option(names = "--tls-reload-interval", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
      description = "How often the TLS files are checked for changes.")
  Duration tlsReloadInterval;

  @Option(names = "--metrics-port", paramLabel = "N", converter = PortConverter.class,
      description = "Serve Prometheus metrics at http://<host>:N/metrics; 0 picks a free port. Off unless set.")
  Integer metricsPort;

  @Option(names = "--audit-log", paramLabel = "FILE",
      description = "Append one JSON line per state change and per refused call to FILE, or '-' for stdout"
          + " (docs/audit-log.md). Off unless set.")
  String auditLog;

  @CommandLine.Mixin
  GrpcPortOptions grpcPort = new GrpcPortOptions();

  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private SettingsProvider settings;
  private CommandLine commandLine;

  public static void main(String[] args) {
    keepNettyJfrEventsOff();
    // Before anything logs: grpc-java and Netty write through java.util.logging.
    JulBridge.install();
    StartupWarmUp.inBackground();
    int code = run(args);
    // The console appender is asynchronous: write what is queued (bounded wait) before exiting.
    ((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    System.exit(code);
  }

  /**
   * Netty's buffer allocators define JFR events, and the first allocation registers them with
   * JFR: about 110 ms of the first call a new server answers, on its event loop, in classes a
   * class-data archive cannot hold. Off unless the operator sets the property (to true) to
   * record Netty's allocations.
   */
  static void keepNettyJfrEventsOff() {
    for (String property : List.of("io.grpc.netty.shaded.io.netty.jfr.enabled", "io.netty.jfr.enabled")) {
      if (System.getProperty(property) == null) {
        System.setProperty(property, "false");
      }
    }
  }

  static int run(String[] args) {
    return run(args, System.getenv(), System.out, System.err);
  }

  /** Runs the command with this environment, printing help to {@code out} and errors to {@code err}. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Main main = new Main();
    CommandLine cl;
    try {
      cl = main.commandLine(args, env);
    } catch (SettingException e) {
      err.println("token-authority: " + e.setting() + ": " + e.getMessage());
      return EXIT_BAD_SETTING;
    }
    cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    // Whatever else fails the start: one line, its stack trace at DEBUG for whoever asks.
    cl.setExecutionExceptionHandler((e, command, parsed) -> {
      log.debug("the start failed", e);
      command.getErr().println("token-authority: the start failed: " + e);
      return 1;
    });
    return cl.execute(args);
  }

  /**
   * Parses and checks the settings without starting anything, for tests.
   *
   * @throws SettingException for a bad file, value or combination
   * @throws CommandLine.ParameterException for a value picocli cannot convert
   */
  static Main parse(String[] args, Map<String, String> env) {
    Main main = new Main();
    main.commandLine(args, env).parseArgs(args);
    main.validate();
    return main;
  }

  private CommandLine commandLine(String[] args, Map<String, String> env) {
    this.env = env;
    CommandLine cl = new CommandLine(this).setCaseInsensitiveEnumValuesAllowed(true);
    ConfigFile file = ConfigFile.none();
    String configPath = configPath(args, env);
    if (configPath != null) {
      file = ConfigFile.load(Path.of(configPath), fileKeys(cl));
    }
    settings = new SettingsProvider(env, file);
    cl.setDefaultValueProvider(settings);
    cl.setParameterExceptionHandler(this::parameterError);
    cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST, new OptionsHelp());
    commandLine = cl;
    return cl;
  }

  /** The file named by {@code --config FILE}, {@code --config=FILE} or TOKEN_AUTHORITY_CONFIG; null if none. */
  private static String configPath(String[] args, Map<String, String> env) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals(ConfigFile.OPTION) && i + 1 < args.length) {
        return args[i + 1];
      }
      if (args[i].startsWith(ConfigFile.OPTION + "=")) {
        return args[i].substring(ConfigFile.OPTION.length() + 1);
      }
    }
    String fromEnv = env.get(SettingsProvider.envName(ConfigFile.OPTION));
    return fromEnv == null || fromEnv.isEmpty() ? null : fromEnv;
  }

  /** Every option's key in a configuration file, except --config itself, help and version. */
  private static Set<String> fileKeys(CommandLine cl) {
    Set<String> keys = new LinkedHashSet<>();
    for (OptionSpec option : cl.getCommandSpec().options()) {
      if (!option.usageHelp() && !option.versionHelp() && !option.longestName().equals(ConfigFile.OPTION)) {
        keys.add(SettingsProvider.key(option.longestName()));
      }
    }
    return keys;
  }

  /** One line naming the setting, never the usage text. */
  private int parameterError(CommandLine.ParameterException ex, String[] args) {
    PrintWriter err = ex.getCommandLine().getErr();
    String line;
    if (ex instanceof CommandLine.UnmatchedArgumentException u) {
      line = "unknown option or argument '" + String.join(" ", u.getUnmatched()) + "' (see --help)";
    } else if (ex.getArgSpec() instanceof OptionSpec option) {
      String message = ex.getMessage().replaceFirst("^Invalid value for option '[^']*': ", "");
      line = name(option.longestName()) + ": " + message;
    } else {
      line = ex.getMessage();
    }
    err.println("token-authority: " + line);
    return EXIT_BAD_SETTING;
  }

  /** An option's name for an error, with where its value came from when not from the command line. */
  private String name(String option) {
    CommandLine.ParseResult parsed = commandLine == null ? null : commandLine.getParseResult();
    if (parsed != null && parsed.hasMatchedOption(option)) {
      return option;
    }
    return settings == null ? option : settings.describe(option);
  }

  /**
   * A row this build cannot decode (a signing key, a status a newer release wrote): one line that
   * names the store, not a stack trace.
   */
  private SettingException unreadableStore(RuntimeException e) {
    log.debug("the store holds data this build cannot read", e);
    Throwable root = Throwables.getRootCause(e);
    String reason = e.getMessage() + (root == e ? "" : " (" + root.getMessage() + ")");
    return new SettingException(storeSetting(), "the store holds data this build cannot read: " + reason
        + "; restore a backup this release made, or run the release that wrote it");
  }

  private int fail(SettingException e) {
    // One line, whatever the message (a database's error may span several).
    String line = "token-authority: " + name(e.setting()) + ": " + e.getMessage().replaceAll("\\s*\\R\\s*", " ");
    commandLine.getErr().println(line);
    return EXIT_BAD_SETTING;
  }

  /** Checks values and combinations that no single converter can. */
  void validate() {
    if (executorThreads < -1 || executorThreads > MAX_EXECUTOR_THREADS) {
      throw new SettingException("--executor-threads",
          "must be -1, 0 or a number of threads up to " + MAX_EXECUTOR_THREADS + ", not " + executorThreads);
    }
    if (dataDir.toString().isBlank()) {
      // An empty value (--data-dir "$UNSET") would be the working directory, wherever that is.
      throw new SettingException("--data-dir", "must not be empty");
    }
    if (shutdownGrace.isNegative()) {
      throw new SettingException("--shutdown-grace", "must not be negative");
    }
    OptionConverters.requirePositive("--purge-interval", purgeInterval);
    OptionConverters.requirePositive("--tls-reload-interval", tlsReloadInterval);
    grpcPort.limits();
    if (issuer.isBlank()) {
      throw new SettingException("--issuer", "must not be empty");
    }
    try {
      new ApiKeySecrets(apiKeyPrefix);
    } catch (IllegalArgumentException e) {
      throw new SettingException("--api-key-prefix", "'" + apiKeyPrefix + "' is not 1-15 lowercase letters or digits followed by '_', e.g. sk_");
    }
    if (StoreKind.ofSetting(store).isEmpty()) {
      throw new SettingException("--store", "must be sqlite, memory or a jdbc:postgresql:// URL, not '" + PostgresStores.redact(store) + "'");
    }
    if (tlsCert != null && tlsKey == null) {
      throw new SettingException(ServerTls.CERT_OPTION, "needs --tls-key too");
    }
    if (tlsKey != null && tlsCert == null) {
      throw new SettingException(ServerTls.KEY_OPTION, "needs --tls-cert too");
    }
    if (tlsClientCa != null && tlsCert == null) {
      throw new SettingException(ServerTls.CLIENT_CA_OPTION, "needs --tls-cert and --tls-key: client certificates are asked for over TLS only");
    }
    if (httpPort > 0 && httpPort == port) {
      throw new SettingException("--http-port", "must differ from --port (" + port + ")");
    }
    if (metricsPort != null && metricsPort != 0 && metricsPort == httpPort) {
      throw new SettingException("--metrics-port", "must differ from --http-port (" + httpPort + ")");
    }
    if (metricsPort != null && metricsPort != 0 && metricsPort == port) {
      throw new SettingException("--metrics-port", "must differ from --port (" + port + ")");
    }
    if (auditLog != null && auditLog.isBlank()) {
      throw new SettingException("--audit-log", "must be a file or '-' for stdout");
    }
  }

  @Override
  public Integer call() throws Exception {
    try {
      validate();
    } catch (SettingException e) {
      return fail(e);
    }
    if (executorThreads == 0) {
      executorThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
    }
    if (httpPort != OptionConverters.HTTP_OFF) {
      HttpGateway.warmUpInBackground();
    }
    Optional<String> adminSecret = Optional.ofNullable(env.get("TOKEN_AUTHORITY_ADMIN_KEY")).filter(s -> !s.isEmpty());
    if (adminSecret.isPresent()) {
      // With the other settings: a secret that could never authenticate stops the start before
      // a store is created or written.
      try {
        ApiKeyService.checkConfiguredAdminSecret(adminSecret.get(), new ApiKeySecrets(apiKeyPrefix));
      } catch (IllegalArgumentException e) {
        commandLine.getErr().println("token-authority: " + e.getMessage());
        return EXIT_BAD_SETTING;
      }
    }
    // Closed once the gRPC server has drained: metrics, audit log, TLS reloader, the store last.
    Deque<AutoCloseable> resources = new ArrayDeque<>();
    try {
      ServerTls tls = null;
      if (tlsCert != null) {
        tls = ServerTls.load(tlsCert, tlsKey, tlsClientCa);
        resources.push(tls);
        tls.startReloading(tlsReloadInterval);
      }
      AuditLog audit = null;
      if (auditLog != null) {
        audit = openAuditLog();
        resources.push(audit);
      }
      Metrics metrics = null;
      int boundMetricsPort = -1;
      if (metricsPort != null) {
        metrics = new Metrics();
        resources.push(metrics);
        boundMetricsPort = serveMetrics(metrics);
        metrics.watchLogDrops(NonBlockingConsoleAppender::dropped);
        if (audit != null) {
          metrics.watchAuditDrops(audit::dropped);
        }
        if (tls != null) {
          metrics.watchCertificateExpiry(tls::certificateNotAfter);
        }
      }
      // Before anything slow: a SIGTERM during start-up still ends in an orderly stop and exit 0.
      installSignalHandlers();
      Store opened;
      try {
        opened = openStore();
      } catch (IllegalArgumentException | StoreUnavailableException e) {
        throw new SettingException(storeSetting(), e.getMessage());
      } catch (RuntimeException e) {
        throw unreadableStore(e);
      }
      // Closed last: the metrics' background count and the audit of drained calls come first.
      resources.addLast(opened);
      Store store = metrics == null ? opened : new TimedStore(opened, metrics);
      Authority.Settings domain =
          new Authority.Settings(apiKeyPrefix, issuer, Authority.Settings.CACHE_TTL, Authority.Settings.LEEWAY);
      Authority authority;
      Optional<String> generated;
      try {
        authority = new Authority(store, domain, Clock.systemUTC());
        generated = authority.ensureAdminKey(adminSecret);
      } catch (IllegalArgumentException e) {
        commandLine.getErr().println("token-authority: " + e.getMessage());
        return EXIT_BAD_SETTING;
      } catch (StoreUnavailableException e) {
        // The first reads and writes: a damaged page or a store that cannot write shows here.
        throw new SettingException(storeSetting(), e.getMessage());
      } catch (UnreadableStoredDataException e) {
        throw unreadableStore(e);
      }
      // Anything else (this JVM cannot make an Ed25519 key, say) is not the store's data: the
      // start's one line says what it is, without advice to restore a backup.
      if (metrics != null) {
        metrics.watchOutstandingSessions(store.sessions(), authority.clock());
      }
      InetSocketAddress address = new InetSocketAddress(port);
      NettyServerBuilder builder =
          tls == null ? NettyServerBuilder.forAddress(address) : tls.serverBuilder(address);
      OpenConnections connections = new OpenConnections();
      resources.push(grpcPort.limits().apply(builder, tls == null, connections));
      ForkJoinPool calls = null;
      if (executorThreads > 0) {
        // Handlers never wait for a commit (writes complete asynchronously), so a pool as large
        // as the machine beats grpc's default unbounded pool: no thread handoff per call.
        calls = new ForkJoinPool(executorThreads, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, true);
        builder.executor(calls);
      }
      HttpGateway.Settings http = null;
      if (httpPort != OptionConverters.HTTP_OFF) {
        // The HTTP port's calls run on the same pool as the gRPC port's.
        http = HttpGateway.Settings.plain(httpPort).withTls(tls).withExecutor(calls).withDrainGrace(shutdownGrace)
            .withLimits(grpcPort.limits().maxConnections(), grpcPort.limits().maxCallsPerConnection());
      }
      if (nativeSigning) {
        NativeEd25519.PROCESS.loadOnFirstSignature();
      } else {
        log.info("Ed25519 signatures by BouncyCastle (--native-signing off)");
      }
      TokenAuthorityServer server;
      try {
        server = new TokenAuthorityServer(builder, authority, purgeInterval, metrics, audit, http,
            tls == null ? null : tls.clientCertificateTrust().map(t -> new ClientCertificateInterceptor(t, connections::close)).orElse(null));
        server.start();
      } catch (IOException e) {
        // The key is stored: a later start finds an admin key and makes none, so this is the
        // one chance to show it, even though this start fails.
        generated.ifPresent(Main::printAdminKey);
        boolean httpFailed = e.getMessage() != null && e.getMessage().startsWith("cannot serve HTTP");
        throw httpFailed ? bindFailure("--http-port", httpPort, e) : bindFailure("--port", port, e);
      } catch (RuntimeException e) {
        generated.ifPresent(Main::printAdminKey);
        throw e;
      }
      generated.ifPresent(Main::printAdminKey);
      if (tls != null) {
        log.info("TLS only: {}", tls.describe());
      }
      if (metrics != null) {
        log.info("metrics on port {} at /metrics", boundMetricsPort);
      }
      if (audit != null) {
        log.info("audit log: {}", auditLog.equals("-") ? "stdout" : Path.of(auditLog).toAbsolutePath());
      }
      if (server.httpPort() > 0) {
        log.info("HTTP/JSON on port {} ({})", server.httpPort(),
            tls == null ? "HTTP/1.1 and h2c" : tlsClientCa == null ? "HTTPS" : "HTTPS with client certificates");
      }
      log.info("token-authority listening on port {} (store {}{}; started in {} ms)", server.port(), describeStore(opened),
          tls == null ? ", plaintext" : tlsClientCa == null ? ", TLS" : ", mTLS",
          sinceProcessStart());
      stopRequested.await();
      log.info("shutting down: draining in-flight calls for up to {} ms", shutdownGrace.toMillis());
      server.stop(shutdownGrace);
    } catch (SettingException e) {
      return fail(e);
    } finally {
      closeAll(resources);
    }
    log.info("stopped");
    return 0;
  }

  /** Milliseconds since this process started (the OS's count, JVM boot included); -1 if unknown. */
  static long sinceProcessStart() {
    try {
      // Linux: the process's start and the uptime, both counted from boot in 1/100 s.
      // ProcessHandle's start instant adds the boot time, which Linux gives to the second only.
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long startTicks = Long.parseLong(fields[19]);
      double uptimeSeconds = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
      return Math.round(uptimeSeconds * 1000 - startTicks * 10.0);
    } catch (IOException | RuntimeException e) {
      return ProcessHandle.current().info().startInstant()
          .map(start -> Duration.between(start, java.time.Instant.now()).toMillis())
          .orElse(-1L);
    }
  }

  private AuditLog openAuditLog() {
    try {
      return AuditLog.open(auditLog);
    } catch (IOException | RuntimeException e) {
      throw new SettingException("--audit-log", "cannot open " + auditLog + ": " + FileProblems.reason(e));
    }
  }

  private int serveMetrics(Metrics metrics) {
    try {
      return metrics.serve(metricsPort);
    } catch (IOException e) {
      throw bindFailure("--metrics-port", metricsPort, e);
    }
  }

  private static SettingException bindFailure(String option, int port, IOException e) {
    Throwable cause = e;
    while (cause.getCause() != null && !(cause instanceof BindException)) {
      cause = cause.getCause();
    }
    return new SettingException(option, "cannot listen on port " + port + ": " + cause.getMessage());
  }

  private static void closeAll(Deque<AutoCloseable> resources) {
    while (!resources.isEmpty()) {
      AutoCloseable r = resources.pop();
      try {
        r.close();
      } catch (Exception e) {
        log.warn("closing {} failed: {}", r.getClass().getSimpleName(), e.getMessage());
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** The kind {@code --store} names; {@link #validate} refused any other value. */
  private StoreKind storeKind() {
    return StoreKind.ofSetting(store).orElseThrow();
  }

  private Store openStore() {
    return switch (storeKind()) {
      case MEMORY -> new MemoryStore();
      case SQLITE -> SqliteStores.open(dataDir, Duration.ofSeconds(5));
      case POSTGRES -> PostgresStores.open(store, env.get("TOKEN_AUTHORITY_STORE_PASSWORD"), Duration.ofSeconds(2));
    };
  }

  /** The setting to name when the store cannot be used: the data dir for SQLite. */
  private String storeSetting() {
    return storeKind() == StoreKind.SQLITE ? "--data-dir" : "--store";
  }

  private String describeStore(Store s) {
    return switch (s.kind()) {
      case SQLITE -> "sqlite in " + dataDir.toAbsolutePath().normalize();
      case POSTGRES -> "postgres at " + PostgresStores.redact(store);
      case MEMORY -> s.kind().toString();
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
        sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
          if (stopRequested.getCount() == 0) {
            // Said, so that an operator pressing Ctrl-C again knows the drain goes on.
            log.info("SIG{} again: already stopping; the calls in flight keep their --shutdown-grace (SIGKILL ends it now)",
                s.getName());
          }
          stopRequested.countDown();
        });
      } catch (IllegalArgumentException e) {
        log.debug("cannot handle SIG{} here", name);
      }
    }
  }
}
