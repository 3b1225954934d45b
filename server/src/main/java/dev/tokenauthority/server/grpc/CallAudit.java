package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.audit.AuditEvent;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.rpc.RpcMethod;
import dev.tokenauthority.server.session.Session;
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
import io.grpc.Grpc;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Writes an {@link AuditEvent} for every state change answered OK (the RPCs {@link MethodTable}
 * marks {@link RpcMethod#changesState}, and an ext_authz Check in redeem mode) and every call that
 * does not end OK, whatever its RPC (a Check that refused counts as refused with its reason,
 * though the RPC itself answers OK).
 *
 * <p>It only ever takes identifiers from a call: ids from the response of a success, ids of the
 * request only when they have the exact shape of our ids (so that a secret sent in the wrong
 * field is never copied), a session id out of a token only after the token was accepted.
 */
final class CallAudit implements CallRecordingInterceptor.CallRecorder {
  private static final Pattern SESSION_ID = Session.ID_SHAPE;
  private static final Pattern API_KEY_ID = ApiKey.ID_SHAPE;

  private final AuditLog log;
  private final Clock clock;

  CallAudit(AuditLog log, Clock clock) {
    this.log = log;
    this.clock = clock;
  }

  @Override
  public void record(CallEnding ending) {
    String rpc = ending.method().getFullMethodName();
    if (ending.ok()
        && !MethodTable.find(rpc).map(RpcMethod::changesState).orElse(false)
        && !ending.checkConsumesUse()) {
      return;
    }
    String outcome =
        ending.ok()
            ? AuditEvent.OK
            : ending.reason() != null
                ? AuditEvent.REFUSED
                : ending.code() == Status.Code.CANCELLED ? AuditEvent.CANCELLED : AuditEvent.ERROR;
    Builder b = new Builder();
    describe(b, ending.request(), ending.response());
    Caller who = ending.caller();
    log.record(
        new AuditEvent(
            clock.instant(),
            rpc,
            outcome,
            ending.code().name(),
            ending.reason(),
            who == null ? null : who.tenantId(),
            who == null ? null : who.apiKeyId(),
            b.sessionId,
            b.externalUserId,
            b.targetApiKeyId,
            b.targetTenant,
            b.kid,
            peer(ending.attributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)),
            peerCertificate(ending.attributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION))));
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
