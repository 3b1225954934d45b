package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.error.Completions;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** Answers a unary call: the response, or the mapped error for whatever was thrown. */
final class Unary {
  private Unary() {}

  static <T> void respond(StreamObserver<T> observer, Supplier<T> handler) {
    T response;
    try {
      response = handler.get();
    } catch (RuntimeException e) {
      observer.onError(ErrorMapper.toStatusException(e));
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  /**
   * Answers a unary call whose result arrives later (a store commit): the handler's thread is
   * free at once; the response, or the mapped error, is sent when the future completes.
   */
  static <T> void respondAsync(StreamObserver<T> observer, Supplier<CompletableFuture<T>> handler) {
    CompletableFuture<T> future;
    try {
      future = handler.get();
    } catch (RuntimeException e) {
      observer.onError(ErrorMapper.toStatusException(e));
      return;
    }
    future.whenComplete(
        (response, failure) -> {
          if (failure != null) {
            observer.onError(ErrorMapper.toStatusException(Completions.unwrap(failure)));
          } else {
            observer.onNext(response);
            observer.onCompleted();
          }
        });
  }
}
