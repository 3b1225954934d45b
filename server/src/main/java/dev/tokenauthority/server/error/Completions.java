package dev.tokenauthority.server.error;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Waiting for a {@link CompletableFuture} and getting back the failure it was completed with. */
public final class Completions {
  private Completions() {}

  /** Waits for the future; its failure is rethrown as it was thrown, not wrapped. */
  public static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }

  /** The failure inside a {@link CompletionException}, or the throwable itself. */
  public static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }
}
