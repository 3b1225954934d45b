package dev.tokenauthority.server.grpc;

import io.grpc.stub.StreamObserver;
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
}
