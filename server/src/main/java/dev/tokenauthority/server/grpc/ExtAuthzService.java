package dev.tokenauthority.server.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionService;
import dev.tokenauthority.server.signing.SessionTokenCodec;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Envoy's external authorization ({@code envoy.service.auth.v3.Authorization/Check}): an
 * adapter that reads the session token, origin and route settings out of a
 * {@link CheckRequest}, runs {@link SessionService#redeemAsync} (mode {@code redeem}) or
 * {@link SessionService#verify} (mode {@code verify}) exactly as Redeem and Introspect do, and
 * answers with the session's identity as headers for the upstream, or with the refusal as an
 * HTTP response ({@link HttpErrorEnvelope}). The caller is Envoy, authenticated by its API key
 * like any RPC. It owns no rule: every decision is the session service's.
 */
public final class ExtAuthzService extends AuthorizationGrpc.AuthorizationImplBase {
  /** {@code context_extensions} keys a route sets. */
  public static final String MODE = "mode";
  public static final String AUDIENCE = "audience";
  public static final String MODE_REDEEM = "redeem";
  public static final String MODE_VERIFY = "verify";

  /** Where the downstream request carries the token (seed 003), and its fallback. */
  public static final String SESSION_TOKEN_HEADER = "x-session-token";
  static final String AUTHORIZATION_HEADER = "authorization";
  static final String ORIGIN_HEADER = "origin";

  public static final String SESSION_ID = "x-session-id";
  public static final String TENANT_ID = "x-tenant-id";
  public static final String EXTERNAL_USER_ID = "x-external-user-id";
  public static final String EXTERNAL_GROUP_ID = "x-external-group-id";
  public static final String SESSION_AUDIENCE = "x-session-audience";
  public static final String SESSION_SCOPES = "x-session-scopes";
  public static final String SESSION_CONTEXT = "x-session-context";

  private static final String BEARER = "bearer ";
  private static final JsonFormat.Printer CONTEXT_JSON = JsonFormat.printer().omittingInsignificantWhitespace();

  private final SessionService sessions;

  public ExtAuthzService(SessionService sessions) {
    this.sessions = sessions;
  }

  @Override
  public void check(CheckRequest request, StreamObserver<CheckResponse> observer) {
    AttributeContext attributes = request.getAttributes();
    Map<String, String> extensions = attributes.getContextExtensionsMap();
    boolean redeem;
    try {
      redeem = redeems(request);
    } catch (AuthorityException e) {
      // The route's configuration is wrong, not the client's request: the RPC fails, so Envoy
      // fails closed and its operator sees the error.
      observer.onError(ErrorMapper.toStatusException(e));
      return;
    }
    String audience = extensions.getOrDefault(AUDIENCE, "");
    DownstreamHeaders headers = new DownstreamHeaders(attributes.getRequest().getHttp());
    String token = headers.sessionToken();
    CompletableFuture<Session> checked;
    try {
      if (token.isEmpty()) {
        throw AuthorityException.of(
            ErrorReason.SESSION_REQUIRED, "send a session token as 'x-session-token' or 'authorization: Bearer <token>'");
      }
      Caller caller = CallerContext.current();
      checked =
          redeem
              ? sessions.redeemAsync(caller, token, headers.get(ORIGIN_HEADER), audience)
              : CompletableFuture.completedFuture(sessions.verify(caller, token, headers.get(ORIGIN_HEADER), audience));
    } catch (RuntimeException e) {
      checked = CompletableFuture.failedFuture(e);
    }
    checked.whenComplete(
        (session, failure) -> {
          CheckResponse response;
          try {
            response = failure == null ? allowed(session, headers) : denied(Completions.unwrap(failure));
          } catch (RuntimeException e) {
            response = denied(e);
          }
          observer.onNext(response);
          observer.onCompleted();
        });
  }

  /**
   * Whether the route's mode consumes a use ({@code redeem}, the default) or not ({@code verify}).
   *
   * @throws AuthorityException INVALID_REQUEST for any other mode
   */
  static boolean redeems(CheckRequest request) {
    String mode = request.getAttributes().getContextExtensionsOrDefault(MODE, MODE_REDEEM);
    return switch (mode.toLowerCase(Locale.ROOT)) {
      case MODE_REDEEM -> true;
      case MODE_VERIFY -> false;
      default -> throw AuthorityException.invalidField(
          "attributes.context_extensions." + MODE, "must be " + MODE_REDEEM + " or " + MODE_VERIFY);
    };
  }

  /** Whether a call's request is a Check in {@code redeem} mode: a state change, as Redeem is. */
  static boolean consumesUse(Object request) {
    try {
      return request instanceof CheckRequest r && redeems(r);
    } catch (AuthorityException e) {
      return false;
    }
  }

  /** The refusal a Check answered with, or null when it allowed the request (or is no CheckResponse). */
  static com.google.rpc.Status denial(Object response) {
    return response instanceof CheckResponse r && r.hasDeniedResponse() ? r.getStatus() : null;
  }

  /** The value an allowing Check set for the upstream in header {@code name}, or null. */
  static String upstreamHeader(CheckResponse response, String name) {
    for (HeaderValueOption h : response.getOkResponse().getHeadersList()) {
      if (h.getHeader().getKey().equals(name)) {
        return h.getHeader().getValue();
      }
    }
    return null;
  }

  private static CheckResponse allowed(Session session, DownstreamHeaders downstream) {
    OkHttpResponse.Builder ok = OkHttpResponse.newBuilder();
    identity(ok, SESSION_ID, session.id());
    identity(ok, TENANT_ID, session.tenantId());
    identity(ok, EXTERNAL_USER_ID, session.externalUserId());
    identity(ok, EXTERNAL_GROUP_ID, session.externalGroupId());
    identity(ok, SESSION_AUDIENCE, session.audience());
    identity(ok, SESSION_SCOPES, String.join(" ", session.scopes()));
    identity(ok, SESSION_CONTEXT, contextHeader(session.context()));
    // The upstream never sees the token.
    if (downstream.has(SESSION_TOKEN_HEADER)) {
      ok.addHeadersToRemove(SESSION_TOKEN_HEADER);
    }
    if (downstream.authorizationHoldsToken()) {
      ok.addHeadersToRemove(AUTHORIZATION_HEADER);
    }
    return CheckResponse.newBuilder()
        .setStatus(com.google.rpc.Status.newBuilder().setCode(com.google.rpc.Code.OK_VALUE))
        .setOkResponse(ok)
        .build();
  }

  /** Sets an identity header, overwriting one the client sent; an empty one is removed instead. */
  private static void identity(OkHttpResponse.Builder ok, String name, String value) {
    if (value == null || value.isEmpty()) {
      ok.addHeadersToRemove(name);
    } else {
      ok.addHeaders(header(name, value));
    }
  }

  /** base64url (no padding) of the session's context as JSON; empty when it has none. */
  private static String contextHeader(byte[] context) {
    if (context.length == 0) {
      return "";
    }
    try {
      String json = CONTEXT_JSON.print(ProtoMapper.decodeContext(context));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored session context cannot be printed as JSON", e);
    }
  }

  private static CheckResponse denied(Throwable failure) {
    com.google.rpc.Status status = StatusProto.fromThrowable(ErrorMapper.toStatusException(failure));
    HttpErrorEnvelope envelope = HttpErrorEnvelope.of(status);
    DeniedHttpResponse.Builder denied =
        DeniedHttpResponse.newBuilder()
            .setStatus(HttpStatus.newBuilder().setCodeValue(envelope.status()))
            .setBody(envelope.body());
    envelope.headers().forEach((name, value) -> denied.addHeaders(header(name, value)));
    return CheckResponse.newBuilder().setStatus(status).setDeniedResponse(denied).build();
  }

  private static HeaderValueOption header(String name, String value) {
    return HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
        .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .build();
  }

  /** The downstream request's headers, from {@code headers} or (with encode_raw_headers) {@code header_map}. */
  private static final class DownstreamHeaders {
    private final Map<String, String> headers;

    DownstreamHeaders(AttributeContext.HttpRequest http) {
      if (http.getHeadersCount() > 0 || !http.hasHeaderMap()) {
        this.headers = http.getHeadersMap();
      } else {
        java.util.HashMap<String, String> raw = new java.util.HashMap<>();
        for (HeaderValue h : http.getHeaderMap().getHeadersList()) {
          String value = h.getValue().isEmpty() ? h.getRawValue().toString(StandardCharsets.UTF_8) : h.getValue();
          raw.merge(h.getKey().toLowerCase(Locale.ROOT), value, (a, b) -> a + "," + b);
        }
        this.headers = raw;
      }
    }

    String get(String name) {
      return headers.getOrDefault(name, "");
    }

    boolean has(String name) {
      return headers.containsKey(name);
    }

    /** {@code x-session-token}, else a session token in {@code authorization: Bearer}; empty when neither. */
    String sessionToken() {
      String token = get(SESSION_TOKEN_HEADER).strip();
      return !token.isEmpty() ? token : authorizationHoldsToken() ? bearer() : "";
    }

    /**
     * Whether {@code authorization} carries a session token (a JWS typed {@code session+jwt}), not
     * some other credential, such as the upstream's own OIDC bearer, which is left alone.
     */
    boolean authorizationHoldsToken() {
      return SessionTokenCodec.isSessionTokenShaped(bearer());
    }

    private String bearer() {
      String value = get(AUTHORIZATION_HEADER);
      return value.length() > BEARER.length() && value.regionMatches(true, 0, BEARER, 0, BEARER.length())
          ? value.substring(BEARER.length()).strip()
          : "";
    }
  }
}
