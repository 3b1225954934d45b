package dev.tokenauthority.server.grpc;

import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A MintSession call as the transport hands it to the interceptors, for tests that drive an
 * interceptor directly: it sends nothing, and remembers how the call was closed.
 */
final class TransportMintCall extends ServerCall<MintSessionRequest, MintSessionResponse> {
  /** The trailers the call was closed with, once it is. */
  final CompletableFuture<Metadata> closed = new CompletableFuture<>();
  final AtomicReference<Status> status = new AtomicReference<>();

  @Override
  public void request(int numMessages) {}

  @Override
  public void sendHeaders(Metadata headers) {}

  @Override
  public void sendMessage(MintSessionResponse message) {}

  @Override
  public void close(Status status, Metadata trailers) {
    this.status.set(status);
    closed.complete(trailers);
  }

  @Override
  public boolean isCancelled() {
    return false;
  }

  @Override
  public MethodDescriptor<MintSessionRequest, MintSessionResponse> getMethodDescriptor() {
    return TokenAuthorityGrpc.getMintSessionMethod();
  }
}
