package dev.tokenauthority.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggerContextListener;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Keeps the API keys of callers out of the log whatever level an operator's logback.xml sets:
 * drops the header frames that grpc-java's HTTP/2 frame logger writes at DEBUG (each holds the
 * call's {@code authorization} header) and everything Armeria's traffic loggers write at TRACE
 * (the raw requests of the HTTP port). The frame logger's other lines (settings, pings, resets,
 * data lengths) still reach a log that asks for them. {@link #install} puts it in logback's
 * context for the life of the process, through any reconfiguration.
 */
public final class WireLogFilter extends TurboFilter {
  /** grpc-java's HTTP/2 frame loggers: Netty's {@code Http2FrameLogger} named after each handler. */
  static final String GRPC_SERVER_FRAMES = "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler";
  static final String GRPC_CLIENT_FRAMES = "io.grpc.netty.shaded.io.grpc.netty.NettyClientHandler";
  /** Armeria's wire loggers (server and client, HTTP/1 bytes and HTTP/2 frames). */
  static final String ARMERIA_TRAFFIC = "com.linecorp.armeria.logging.traffic";

  private static final String NAME = "wire-log-filter";

  WireLogFilter() {
    setName(NAME);
  }

  /**
   * Adds the filter to logback's context unless it is there, and keeps it there when logback is
   * reset (a reconfiguration by {@code scan}). Does nothing when SLF4J logs through another
   * backend.
   */
  public static void install() {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      synchronized (WireLogFilter.class) {
        if (context.getTurboFilterList().stream().noneMatch(f -> NAME.equals(f.getName()))) {
          add(context);
          context.addListener(new KeepAcrossResets());
        }
      }
    }
  }

  private static void add(LoggerContext context) {
    WireLogFilter filter = new WireLogFilter();
    filter.setContext(context);
    filter.start();
    context.addTurboFilter(filter);
  }

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level != null && level.isGreaterOrEqual(Level.INFO)) {
      return FilterReply.NEUTRAL;
    }
    String name = logger.getName();
    if (name.startsWith(ARMERIA_TRAFFIC)) {
      // Also the level check before a line is formatted: none of it is ever written.
      return FilterReply.DENY;
    }
    if (format != null
        && (name.equals(GRPC_SERVER_FRAMES) || name.equals(GRPC_CLIENT_FRAMES))
        && (format.contains("HEADERS:") || format.contains("PUSH_PROMISE:"))) {
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }

  /** Puts the filter back after logback's reset, which empties the list of turbo filters. */
  private static final class KeepAcrossResets implements LoggerContextListener {
    @Override
    public boolean isResetResistant() {
      return true;
    }

    @Override
    public void onReset(LoggerContext context) {
      add(context);
    }

    @Override
    public void onStart(LoggerContext context) {}

    @Override
    public void onStop(LoggerContext context) {}

    @Override
    public void onLevelChange(Logger logger, Level level) {}
  }
}
