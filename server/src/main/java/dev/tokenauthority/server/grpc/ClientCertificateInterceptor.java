package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.tls.ClientCertificateTrust;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.net.SocketAddress;
import java.util.function.BiConsumer;

/**
 * On a port that requires client certificates (mTLS), refuses the calls of a connection whose
 * certificate the client CAs served now do not trust: {@code UNAUTHENTICATED}
 * {@code CLIENT_CERTIFICATE_UNTRUSTED}. TLS checked it at the handshake, under the CAs of then;
 * this is what makes removing a CA reach the connections already open and the sessions resumed
 * from before (see {@link ClientCertificateTrust}). The HTTP/JSON port's calls pass through it too.
 */
public final class ClientCertificateInterceptor implements ServerInterceptor {
  private final ClientCertificateTrust trust;
  private final BiConsumer<SocketAddress, SocketAddress> closeConnection;

  /**
   * @param closeConnection ends the refused call's connection (by its local and remote
   *     addresses), so that
   *     the client reconnects, with a full handshake under the CAs served now, instead of
   *     calling on it in vain: a client's channel does not reconnect on UNAUTHENTICATED
   */
  public ClientCertificateInterceptor(ClientCertificateTrust trust, BiConsumer<SocketAddress, SocketAddress> closeConnection) {
    this.trust = trust;
    this.closeConnection = closeConnection;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (trust.trusts(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION))) {
      return next.startCall(call, headers);
    }
    StatusRuntimeException refusal = ErrorMapper.toStatusException(untrusted());
    call.close(refusal.getStatus(), refusal.getTrailers());
    closeConnection.accept(
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR), call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
    return new ServerCall.Listener<>() {};
  }

  /** The refusal, for a transport that answers without a call (the HTTP port's open routes). */
  public static AuthorityException untrusted() {
    return AuthorityException.of(ErrorReason.CLIENT_CERTIFICATE_UNTRUSTED,
        "this connection's client certificate is not trusted by the server's client CAs any more:"
            + " reconnect with a certificate of a CA it trusts now");
  }
}
