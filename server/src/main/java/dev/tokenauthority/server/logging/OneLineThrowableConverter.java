package dev.tokenauthority.server.logging;

import ch.qos.logback.classic.pattern.ThrowableHandlingConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;

/**
 * Prints an event's exception on the event's own line: each cause as
 * {@code class: message (at first frame)}, at most four, joined by {@code <- }. A stack trace of
 * 30 lines per event is what let one hostile client write megabytes of log; the first frame and
 * the causes are what an operator reads anyway, and a bug is reproduced with its reference
 * ({@code ref=...}) and a debugger, not from the log. Registered by {@link ServerLogging} as {@code %oneLineEx}.
 */
public final class OneLineThrowableConverter extends ThrowableHandlingConverter {
  private static final int MAX_CAUSES = 4;
  private static final int MAX_MESSAGE = 300;

  @Override
  public String convert(ILoggingEvent event) {
    IThrowableProxy t = event.getThrowableProxy();
    if (t == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(" | ");
    for (int depth = 0; t != null && depth < MAX_CAUSES; depth++, t = t.getCause()) {
      if (depth > 0) {
        out.append(" <- ");
      }
      out.append(t.getClassName());
      if (t.getMessage() != null) {
        String message = t.getMessage().replaceAll("[\\r\\n\\t]+", " ");
        out.append(": ").append(message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) + "..." : message);
      }
      StackTraceElementProxy[] frames = t.getStackTraceElementProxyArray();
      if (frames != null && frames.length > 0) {
        out.append(" (at ").append(frames[0].getStackTraceElement()).append(')');
      }
    }
    if (t != null) {
      out.append(" <- ...");
    }
    return out.toString();
  }
}
