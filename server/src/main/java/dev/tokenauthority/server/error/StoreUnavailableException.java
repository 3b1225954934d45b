package dev.tokenauthority.server.error;

/**
 * Thrown by a store when it cannot answer: the database is down, a write did not commit,
 * the call's deadline ran out. The edge maps it to UNAVAILABLE with STORE_UNAVAILABLE.
 */
public final class StoreUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
