package dev.tokenauthority.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The server's logging, set up in code rather than by parsing a logback.xml, which took about
 * 120 ms of every start (docs/performance.md, "Start-up"): one line per event on the console,
 * through a queue that never blocks the thread that logs. logback finds it through
 * {@code META-INF/services}. It steps aside for an operator's own configuration: a file named by
 * {@code -Dlogback.configurationFile}, or a {@code logback.xml} (or {@code logback-test.xml}) on
 * the class path, which logback then reads as usual.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class ServerLogging extends ContextAwareBase implements Configurator {
  /** The line: time, level, thread, logger, the message on one line, then any exception on it too. */
  static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %replace(%msg){'[\\r\\n]+', ' '}%oneLineEx%n";

  /** Loggers of libraries that say too much at INFO; their warnings still show. */
  private static final Map<String, Level> LEVELS = Map.of(
      "org.flywaydb", Level.WARN,
      "io.grpc", Level.WARN,
      "com.zaxxer.hikari", Level.WARN,
      // It logs a stack trace per broken connection; the store logs one line when PostgreSQL goes away.
      "com.zaxxer.hikari.pool.ProxyConnection", Level.ERROR,
      // "Failed to validate connection ... consider a shorter maxLifetime", twice a second while
      // PostgreSQL hangs, with advice that does not apply: the store's one line says it.
      "com.zaxxer.hikari.pool.PoolBase", Level.ERROR,
      "io.zonky", Level.WARN,
      // The HTTP port's server: its start-up lines repeat what Main logs.
      "com.linecorp.armeria", Level.WARN,
      "io.netty", Level.WARN);

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (operatorConfigured()) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static boolean operatorConfigured() {
    ClassLoader loader = ServerLogging.class.getClassLoader();
    return System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY) != null
        || loader.getResource("logback-test.xml") != null
        || loader.getResource("logback.xml") != null;
  }

  /** Sets {@code context} up as the server logs; what {@link #configure} does when nothing overrides it. */
  public static void apply(LoggerContext context) {
    // grpc-java and Netty log through java.util.logging, bridged into SLF4J at start-up: JUL's
    // levels follow logback's, so a level disabled here is never even formatted there.
    LevelChangePropagator julLevels = new LevelChangePropagator();
    julLevels.setContext(context);
    julLevels.setResetJUL(true);
    context.addListener(julLevels);
    julLevels.start();

    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(lineLayout(context));
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("CONSOLE");
    console.setEncoder(encoder);
    console.start();

    // No thread that serves calls ever writes to the console: lines queue here, and when the
    // console stalls and the queue is full they are dropped and counted, never waited for.
    NonBlockingConsoleAppender queue = new NonBlockingConsoleAppender();
    queue.setContext(context);
    queue.setName("STDOUT");
    queue.setQueueSize(8192);
    queue.setMaxFlushTime(2000);
    queue.addAppender(console);
    queue.start();

    LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
    PeerTroubleFilter peerTrouble = new PeerTroubleFilter();
    peerTrouble.setContext(context);
    peerTrouble.start();
    context.addTurboFilter(peerTrouble);
    context.addTurboFilter(new MigrationFailureFilter());
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(queue);
  }

  /** One event as one line of {@link #PATTERN}. */
  static PatternLayout lineLayout(LoggerContext context) {
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    layout.setPattern(PATTERN);
    // An exception is printed on its event's line: class, message and first frame of each cause.
    layout.getInstanceConverterMap().put("oneLineEx", OneLineThrowableConverter::new);
    layout.start();
    return layout;
  }

  /**
   * Drops Flyway's "Migration ... failed! Changes successfully rolled back.": the start's one
   * line says why. The same logger's warnings (a schema newer than this build, in a rolling
   * upgrade) still show.
   */
  static final class MigrationFailureFilter extends ch.qos.logback.classic.turbo.TurboFilter {
    static final String DB_MIGRATE = "org.flywaydb.core.internal.command.DbMigrate";

    @Override
    public ch.qos.logback.core.spi.FilterReply decide(org.slf4j.Marker marker, ch.qos.logback.classic.Logger logger,
        Level level, String format, Object[] params, Throwable t) {
      return level == Level.ERROR && logger.getName().equals(DB_MIGRATE)
          ? ch.qos.logback.core.spi.FilterReply.DENY : ch.qos.logback.core.spi.FilterReply.NEUTRAL;
    }
  }
}
