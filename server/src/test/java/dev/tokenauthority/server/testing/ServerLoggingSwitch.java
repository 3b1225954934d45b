package dev.tokenauthority.server.testing;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import dev.tokenauthority.server.logging.ServerLogging;
import org.slf4j.LoggerFactory;

/**
 * Tests run with logback-test.xml. A test of what the server itself logs switches logback to the
 * server's own set-up ({@link ServerLogging}: its levels, its one-line format) and back after.
 */
public final class ServerLoggingSwitch {
  private static final LoggerContext CONTEXT = (LoggerContext) LoggerFactory.getILoggerFactory();

  private ServerLoggingSwitch() {}

  /** The logger context both set-ups configure. */
  public static LoggerContext context() {
    return CONTEXT;
  }

  public static void toTheServers() {
    CONTEXT.reset();
    ServerLogging.apply(CONTEXT);
  }

  public static void backToTheTests() throws Exception {
    CONTEXT.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(CONTEXT);
    configurator.doConfigure(ServerLoggingSwitch.class.getResource("/logback-test.xml"));
  }
}
