package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.audit.AuditEvent;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.rpc.RpcMethod;
import dev.tokenauthority.server.signing.SessionTokenCodec;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.GetTenantRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RotateSigningKeyResponse;
import dev.tokenauthority.v1.UpdateTenantRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Context;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Writes an {@link AuditEvent} for every state change answered OK (the RPCs {@link MethodTable}
 * marks {@link RpcMethod#changesState}, and an ext_authz Check in redeem mode) and every call that does not end OK,
 * whatever its RPC (a Check that refused counts as refused with its reason, though the RPC itself answers OK). Install it outside the authentication interceptor: it hears of the
 * caller through {@link CallerContext.CallerListener}, and sees the refusals of authentication.
 *
 * <p>It only ever takes identifiers from a call: ids from the response of a success, ids of the
 * request only when they have the exact shape of our ids (so that a secret sent in the wrong
 * field is never copied), a session id out of a token only after the token was accepted.
 */
public final class AuditInterceptor implements ServerInterceptor {
  private static final Pattern SESSION_ID = Pattern.compile("ses_[0-9A-Za-z]{24}");
  private static final Pattern API_KEY_ID = Pattern.compile("key_[0-9A-Za-z]{22}");

  private final AuditLog log;
  private final Clock clock;

  public AuditInterceptor(AuditLog log, Clock clock) {
    this.log = log;
    this.clock = clock;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    AuditedCall<ReqT, RespT> audited = new AuditedCall<>(call);
    Context context = Context.current().withValue(CallerContext.CALLER_LISTENER, audited);
    ServerCall.Listener<ReqT> listener;
    Context previous = context.attach();
    try {
      listener = next.startCall(audited, headers);
    } finally {
      context.detach(previous);
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        audited.request = message;
        super.onMessage(message);
      }

      @Override
      public void onCancel() {
        StatusRuntimeException refusal = TransportRefusals.refusal(context);
        if (refusal == null) {
          audited.ended(Status.CANCELLED, null);
        } else {
          audited.ended(refusal.getStatus(), refusal.getTrailers());
        }
        super.onCancel();
      }
    };
  }

  private final class AuditedCall<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT>
      implements CallerContext.CallerListener {
    private final AtomicBoolean ended = new AtomicBoolean();
    volatile Caller caller;
    volatile Object request;
    volatile Object response;

    AuditedCall(ServerCall<ReqT, RespT> call) {
      super(call);
    }

    @Override
    public void authenticated(Caller caller) {
      this.caller = caller;
    }

    @Override
    public void sendMessage(RespT message) {
      response = message;
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      ended(status, trailers);
      super.close(status, trailers);
    }

    void ended(Status status, Metadata trailers) {
      // Once only: a cancellation reported after the call was closed is not a second outcome.
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      String rpc = getMethodDescriptor().getFullMethodName();
      // An ext_authz Check answers OK either way; its own status says whether it refused.
      com.google.rpc.Status denial = ExtAuthzService.denial(response);
      Status outcomeStatus = denial == null ? status : Status.fromCodeValue(denial.getCode());
      if (outcomeStatus.isOk()
          && !MethodTable.find(rpc).map(RpcMethod::changesState).orElse(false)
          && !ExtAuthzService.consumesUse(request)) {
        return;
      }
      String reason = denial == null ? ErrorMapper.reasonOf(status, trailers) : ErrorMapper.reasonOf(denial);
      String outcome =
          outcomeStatus.isOk()
              ? AuditEvent.OK
              : reason != null
                  ? AuditEvent.REFUSED
                  : status.getCode() == Status.Code.CANCELLED ? AuditEvent.CANCELLED : AuditEvent.ERROR;
      Builder b = new Builder();
      describe(b, request, outcomeStatus.isOk() ? response : null);
      Caller who = caller;
      log.record(
          new AuditEvent(
              clock.instant(),
              rpc,
              outcome,
              outcomeStatus.getCode().name(),
              reason,
              who == null ? null : who.tenantId(),
              who == null ? null : who.apiKeyId(),
              b.sessionId,
              b.externalUserId,
              b.targetApiKeyId,
              b.targetTenant,
              b.kid,
              peer(getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)),
              peerCertificate(getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION))));
    }
  }

  /** The identifiers of one call. */
  private static final class Builder {
    String sessionId;
    String externalUserId;
    String targetApiKeyId;
    String targetTenant;
    String kid;
  }

  /** Fills in what the request and, for a success, the response say; nothing else. */
  private static void describe(Builder b, Object request, Object response) {
    if (request instanceof MintSessionRequest r && response instanceof MintSessionResponse m) {
      b.sessionId = m.getSessionId();
      b.externalUserId = r.getExternalUserId();
    } else if (response instanceof RedeemResponse m) {
      b.sessionId = m.getSessionId();
      b.externalUserId = m.getExternalUserId();
      b.targetTenant = m.getTenantId();
    } else if (response instanceof CheckResponse m && m.hasOkResponse()) {
      // The identity the Check itself set for the upstream, never a header the client sent.
      b.sessionId = ExtAuthzService.upstreamHeader(m, ExtAuthzService.SESSION_ID);
      b.externalUserId = ExtAuthzService.upstreamHeader(m, ExtAuthzService.EXTERNAL_USER_ID);
      b.targetTenant = ExtAuthzService.upstreamHeader(m, ExtAuthzService.TENANT_ID);
    } else if (request instanceof CreateApiKeyRequest r) {
      if (response instanceof CreateApiKeyResponse m) {
        b.targetApiKeyId = m.getApiKey().getId();
        b.targetTenant = m.getApiKey().getTenantId();
      } else {
        b.targetTenant = shaped(r.getTenantId(), Tenant.ID);
      }
    } else if (request instanceof RevokeRequest r) {
      switch (r.getTargetCase()) {
        case API_KEY_ID -> b.targetApiKeyId = shaped(r.getApiKeyId(), API_KEY_ID);
        case SESSION_ID -> b.sessionId = shaped(r.getSessionId(), SESSION_ID);
        // The token was accepted: its jti is the id of the session it revoked.
        case TOKEN -> b.sessionId = response == null ? null : SessionTokenCodec.peekSessionId(r.getToken()).orElse(null);
        default -> { }
      }
    } else if (request instanceof ListApiKeysRequest r) {
      b.targetTenant = shaped(r.getTenantId(), Tenant.ID);
    } else if (request instanceof CreateTenantRequest r) {
      b.targetTenant = shaped(r.getTenant().getId(), Tenant.ID);
    } else if (request instanceof UpdateTenantRequest r) {
      b.targetTenant = shaped(r.getTenant().getId(), Tenant.ID);
    } else if (request instanceof GetTenantRequest r) {
      b.targetTenant = shaped(r.getId(), Tenant.ID);
    } else if (response instanceof RotateSigningKeyResponse m) {
      b.kid = m.getKid();
    }
  }

  /** A value from a request, kept only when it has exactly the shape of our identifiers. */
  private static String shaped(String value, Pattern shape) {
    return value != null && !value.isEmpty() && value.length() <= 64 && shape.matcher(value).matches() ? value : null;
  }

  private static String peer(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      String host = inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
      return host.indexOf(':') >= 0 ? "[" + host + "]:" + inet.getPort() : host + ":" + inet.getPort();
    }
    return address == null ? null : address.toString();
  }

  private static String peerCertificate(SSLSession session) {
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x
          ? x.getSubjectX500Principal().getName()
          : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
