package dev.tokenauthority.server.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Makes a store's connections fail on command: the next write statement (INSERT, UPDATE,
 * DELETE) or the next COMMIT throws the given error, before or after the real thing runs. A
 * fault fires once, then the connections behave again, as a disk that gets room or a network
 * that comes back.
 */
public final class ConnectionFaults implements UnaryOperator<Connection> {
  /** Where a fault strikes. */
  public enum Step {
    /** The write statement fails without running. */
    BEFORE_STATEMENT,
    /** The write statement runs (in autocommit mode: commits), then the call fails. */
    AFTER_STATEMENT,
    /** COMMIT fails without committing. */
    BEFORE_COMMIT,
    /** COMMIT commits, then the call fails: the answer was lost. */
    AFTER_COMMIT
  }

  /**
   * One armed fault. {@code sideEffect} runs on the real connection just before the error is
   * thrown: SQLite rolls a transaction back by itself on SQLITE_FULL or an I/O error, which a
   * plain {@code ROLLBACK} behind the driver's back reproduces.
   */
  public record Fault(Step step, Supplier<SQLException> error, boolean rollsBack) {}

  private final AtomicReference<Fault> armed = new AtomicReference<>();

  /** Arms {@code fault} for the next matching step on any connection. */
  public void arm(Fault fault) {
    armed.set(fault);
  }

  /** Whether the armed fault has fired (or none is armed). */
  public boolean fired() {
    return armed.get() == null;
  }

  public void disarm() {
    armed.set(null);
  }

  @Override
  public Connection apply(Connection real) {
    return proxy(Connection.class, real, (method, args) -> {
      String name = method.getName();
      if (name.equals("commit")) {
        return step(real, Step.BEFORE_COMMIT, Step.AFTER_COMMIT, () -> invoke(method, real, args));
      }
      Object result = invoke(method, real, args);
      if (name.equals("prepareStatement") && args != null && args[0] instanceof String sql && isWrite(sql)) {
        PreparedStatement ps = (PreparedStatement) result;
        return proxy(PreparedStatement.class, ps, (m, a) -> m.getName().startsWith("execute")
            ? step(real, Step.BEFORE_STATEMENT, Step.AFTER_STATEMENT, () -> invoke(m, ps, a))
            : invoke(m, ps, a));
      }
      return result;
    });
  }

  private Object step(Connection real, Step before, Step after, Call call) throws Throwable {
    Fault fault = armed.get();
    if (fault != null && fault.step() == before && armed.compareAndSet(fault, null)) {
      throw fail(real, fault);
    }
    Object result = call.run();
    if (fault != null && fault.step() == after && armed.compareAndSet(fault, null)) {
      throw fail(real, fault);
    }
    return result;
  }

  private static SQLException fail(Connection real, Fault fault) {
    if (fault.rollsBack()) {
      try (Statement s = real.createStatement()) {
        s.execute("ROLLBACK");
      } catch (SQLException e) {
        // no transaction was open: nothing to undo
      }
    }
    return fault.error().get();
  }

  private static boolean isWrite(String sql) {
    String head = sql.stripLeading().toUpperCase(Locale.ROOT);
    return head.startsWith("INSERT") || head.startsWith("UPDATE") || head.startsWith("DELETE");
  }

  @FunctionalInterface
  private interface Call {
    Object run() throws Throwable;
  }

  @FunctionalInterface
  private interface Handler {
    Object handle(Method method, Object[] args) throws Throwable;
  }

  private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, T target, Handler handler) {
    InvocationHandler h = (proxy, method, args) -> {
      if (method.getName().equals("unwrap") || method.getName().equals("isWrapperFor")) {
        return invoke(method, target, args);
      }
      return handler.handle(method, args);
    };
    return (T) Proxy.newProxyInstance(ConnectionFaults.class.getClassLoader(), new Class<?>[] {type}, h);
  }
}
