package dev.tokenauthority.server.error;

/**
 * A row the store returned that this build cannot decode (a damaged store, or data a later
 * release wrote). Not a store outage, and not a fault of this process's environment: a start
 * that meets one says to restore a backup or run the release that wrote it.
 */
public final class UnreadableStoredDataException extends IllegalStateException {
  public UnreadableStoredDataException(String message, Throwable cause) {
    super(message, cause);
  }
}
