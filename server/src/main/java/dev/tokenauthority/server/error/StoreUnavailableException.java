package dev.tokenauthority.server.error;

/**
 * Thrown by a store when it cannot answer: the database is down, a write did not commit,
 * the call's deadline ran out. The edge maps it to UNAVAILABLE with STORE_UNAVAILABLE.
 *
 * <p>Unless {@link #commitUnknown()}, the call's write did not commit and retrying it is safe.
 * When the connection was lost while the commit was under way (PostgreSQL), or the disk failed
 * while SQLite made it durable, the write may or may not have committed: the edge then adds
 * {@code commit_state=unknown} to the ErrorInfo, and a client must check (a redeem with
 * Introspect) rather than retry blindly.
 */
public final class StoreUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean commitUnknown;

  public StoreUnavailableException(String message, Throwable cause) {
    this(message, cause, false);
  }

  private StoreUnavailableException(String message, Throwable cause, boolean commitUnknown) {
    super(message, cause);
    this.commitUnknown = commitUnknown;
  }

  /** A failure after the commit was sent: the write may have committed. */
  public static StoreUnavailableException commitUnknown(String message, Throwable cause) {
    return new StoreUnavailableException(message, cause, true);
  }

  /** Whether the write may have committed despite the failure. */
  public boolean commitUnknown() {
    return commitUnknown;
  }
}
