package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.ApiKeyService;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantDirectory;
import dev.tokenauthority.server.tenant.TenantPolicy;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.rpc.RpcMethod;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;

/**
 * Authenticates every call of the token-authority services by its
 * {@code authorization: Bearer <API key secret>} header, checks the scope the method needs,
 * and hands the {@link Caller} on through the gRPC {@link Context}. A session token is never
 * accepted as a credential. What each method needs is read from {@link MethodTable}: a method
 * it describes as open (health, reflection) passes without a key, one it does not describe is
 * refused.
 */
public final class ApiKeyAuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String BEARER = "bearer ";
  /** A browser's origin, passed on by a gRPC-Web proxy; server-to-server calls carry none. */
  static final Metadata.Key<String> ORIGIN = Metadata.Key.of("origin", Metadata.ASCII_STRING_MARSHALLER);

  private final ApiKeyService keys;
  private final TenantDirectory tenants;

  public ApiKeyAuthInterceptor(ApiKeyService keys, TenantDirectory tenants) {
    this.keys = keys;
    this.tenants = tenants;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Optional<RpcMethod> method = MethodTable.find(call.getMethodDescriptor().getFullMethodName());
    if (method.isEmpty()) {
      // Not described, so nobody knows who may call it: refused, whoever asks.
      call.close(Status.UNIMPLEMENTED.withDescription("this method is not served"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    if (!method.get().access().needsKey()) {
      return next.startCall(call, headers);
    }
    Caller caller;
    try {
      caller = keys.authenticate(bearerSecret(onlyAuthorization(headers)));
      CallerContext.noteCaller(caller);
      method.get().access().checkCaller(caller);
      if (method.get().checksCallerTenant() && !(caller.isAdmin() && caller.tenantId().equals(Tenant.DEFAULT_ID))) {
        // A cancelled subscription refuses every call of the tenant's keys; the RPCs check the
        // rest. Not the admin's: the default tenant's subscription does not decide whether an
        // operator may revoke a leaked key of another tenant.
        tenants.find(caller.tenantId()).ifPresent(t -> TenantPolicy.check(t, TenantPolicy.Operation.MANAGE));
      }
    } catch (RuntimeException e) {
      StatusRuntimeException status = ErrorMapper.toStatusException(e);
      call.close(status.getStatus(), status.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    String origin = headers.get(ORIGIN);
    Context context =
        Context.current()
            .withValue(CallerContext.CALLER, caller)
            .withValue(CallerContext.BROWSER_ORIGIN, origin == null ? "" : origin);
    return Contexts.interceptCall(context, call, headers, next);
  }

  /**
   * The one {@code authorization} header, or null. Two or more are refused rather than read
   * first- or last-wins: a proxy that appends its own would otherwise decide who the caller is.
   */
  private static String onlyAuthorization(Metadata headers) {
    Iterable<String> all = headers.getAll(AUTHORIZATION);
    if (all == null) {
      return null;
    }
    java.util.Iterator<String> values = all.iterator();
    String first = values.next();
    if (values.hasNext()) {
      throw AuthorityException.of(ErrorReason.API_KEY_INVALID, "send exactly one authorization header");
    }
    return first;
  }

  private static String bearerSecret(String header) {
    if (header == null || header.isBlank()) {
      throw AuthorityException.of(ErrorReason.API_KEY_REQUIRED, "send an API key as 'authorization: Bearer <API key>'");
    }
    if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw AuthorityException.of(ErrorReason.API_KEY_INVALID, "the authorization header must be 'Bearer <API key>'");
    }
    String secret = header.substring(BEARER.length()).strip();
    if (looksLikeJwt(secret)) {
      throw AuthorityException.of(ErrorReason.API_KEY_INVALID, "a session token is not an API key and is never a credential");
    }
    return secret;
  }

  /** A compact JWS: three dot-separated parts, the first a base64url JSON object. */
  static boolean looksLikeJwt(String s) {
    return s.startsWith("eyJ") && s.chars().filter(c -> c == '.').count() == 2;
  }
}
