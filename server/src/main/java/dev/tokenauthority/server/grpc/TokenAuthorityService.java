package dev.tokenauthority.server.grpc;

import com.google.rpc.ErrorInfo;
import dev.tokenauthority.server.apikey.ApiKeyService;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.rpc.MethodTable;
import dev.tokenauthority.server.session.SessionService;
import dev.tokenauthority.server.signing.SigningKeys;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.GetJwksResponse;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.IntrospectResponse;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.ListApiKeysResponse;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RevokeResponse;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code tokenauthority.v1.TokenAuthority} service: maps each request to the domain and
 * the result back to protobuf, nothing more. The caller comes from {@link CallerContext}.
 */
public final class TokenAuthorityService extends TokenAuthorityGrpc.TokenAuthorityImplBase {
  private final SessionService sessions;
  private final ApiKeyService keys;
  private final SigningKeys signingKeys;

  public TokenAuthorityService(SessionService sessions, ApiKeyService keys, SigningKeys signingKeys) {
    this.sessions = sessions;
    this.keys = keys;
    this.signingKeys = signingKeys;
  }

  @Override
  public void mintSession(MintSessionRequest request, StreamObserver<MintSessionResponse> observer) {
    AtomicReference<RateLimiter.Decision> rateLimit = RateLimitHeaders.holder();
    ProtoMapper.ContextShape context = ProtoMapper.ContextShape.of(request.hasContext(), request.getContext());
    Unary.respondAsync(
        observer,
        () ->
            sessions.mintAsync(
                    CallerContext.current(),
                    new SessionService.MintRequest(
                        request.getExternalUserId(),
                        request.getExternalGroupId(),
                        request.getAudience(),
                        request.getTtlSeconds(),
                        request.getMaxUses(),
                        request.getScopesList(),
                        request.getOrigin(),
                        ProtoMapper.encodeContext(request.hasContext(), request.getContext()),
                        context.depth(),
                        context.nonFiniteNumber(),
                        CallerContext.browserOrigin()))
                .whenComplete((minted, failure) -> recordRateLimit(rateLimit, minted, failure))
                .thenApply(this::mintResponse));
  }

  /**
   * Hands the decision the mint took to {@link RateLimitHeaders}, from a success or a
   * RATE_LIMITED refusal; for a mint refused before it took anything, the interceptor reads the
   * allowance itself.
   */
  private static void recordRateLimit(
      AtomicReference<RateLimiter.Decision> holder, SessionService.Minted minted, Throwable failure) {
    if (holder == null) {
      return;
    }
    if (minted != null) {
      holder.set(minted.rateLimit());
    } else if (Completions.unwrap(failure) instanceof AuthorityException e) {
      e.rateLimit().ifPresent(holder::set);
    }
  }

  private MintSessionResponse mintResponse(SessionService.Minted minted) {
    // The TTL given, not the time left when the answer is built: read after the store's commit,
    // a clock that had crossed a second boundary told a new 1 s token it had 0 s left.
    return MintSessionResponse.newBuilder()
        .setToken(minted.token())
        .setSessionId(minted.session().id())
        .setExpireTime(ProtoMapper.timestamp(minted.session().expireTime()))
        .setExpiresInSeconds(minted.ttlSeconds())
        .build();
  }

  @Override
  public void redeem(RedeemRequest request, StreamObserver<RedeemResponse> observer) {
    Unary.respondAsync(
        observer,
        () ->
            sessions
                .redeemAsync(CallerContext.current(), request.getToken(), request.getOrigin(), request.getAudience())
                .thenApply(ProtoMapper::redeemResponse));
  }

  @Override
  public void introspect(IntrospectRequest request, StreamObserver<IntrospectResponse> observer) {
    Unary.respond(
        observer,
        () -> {
          SessionService.Introspection result = sessions.introspect(CallerContext.current(), request.getToken());
          if (!result.active()) {
            return IntrospectResponse.newBuilder()
                .setActive(false)
                .setReason(result.reason().wireName())
                .setErrorInfo(ErrorInfo.newBuilder().setReason(result.reason().wireName()).setDomain(ErrorMapper.DOMAIN))
                .build();
          }
          return ProtoMapper.introspectResponse(result.session());
        });
  }

  @Override
  public void createApiKey(CreateApiKeyRequest request, StreamObserver<CreateApiKeyResponse> observer) {
    Unary.respond(
        observer,
        () -> {
          ApiKeyService.CreatedKey created =
              keys.create(
                  CallerContext.current(),
                  new ApiKeyService.NewKey(
                      request.getTenantId(),
                      request.getName(),
                      ProtoMapper.instant(request.hasExpireTime(), request.getExpireTime(), "expire_time"),
                      request.getScopesList(),
                      request.getAllowedOriginsList()));
          return CreateApiKeyResponse.newBuilder()
              .setApiKey(ProtoMapper.apiKey(created.key()))
              .setSecret(created.secret())
              .build();
        });
  }

  @Override
  public void listApiKeys(ListApiKeysRequest request, StreamObserver<ListApiKeysResponse> observer) {
    Unary.respond(
        observer,
        () -> {
          ApiKeyService.Page page =
              keys.list(CallerContext.current(), request.getTenantId(), request.getPageSize(), request.getPageToken());
          ListApiKeysResponse.Builder b = ListApiKeysResponse.newBuilder().setNextPageToken(page.nextPageToken());
          page.keys().forEach(k -> b.addApiKeys(ProtoMapper.apiKey(k)));
          return b.build();
        });
  }

  @Override
  public void revoke(RevokeRequest request, StreamObserver<RevokeResponse> observer) {
    Unary.respond(
        observer,
        () -> {
          Caller caller = CallerContext.current();
          Instant revoked =
              switch (request.getTargetCase()) {
                case API_KEY_ID -> {
                  MethodTable.REVOKE_ACCESS.requireFor(caller, "api_key_id");
                  yield keys.revoke(caller, required(request.getApiKeyId(), "api_key_id"));
                }
                case SESSION_ID -> {
                  MethodTable.REVOKE_ACCESS.requireFor(caller, "session_id");
                  yield sessions.revokeById(caller, required(request.getSessionId(), "session_id"));
                }
                case TOKEN -> {
                  MethodTable.REVOKE_ACCESS.requireFor(caller, "token");
                  // Any length: one longer than a token is NOT_FOUND, as every token not ours.
                  yield sessions.revokeByToken(caller, required(request.getToken(), "token", Integer.MAX_VALUE));
                }
                case TARGET_NOT_SET ->
                    throw AuthorityException.invalidField("target", "name one of api_key_id, session_id or token");
              };
          return RevokeResponse.newBuilder().setRevokeTime(ProtoMapper.timestamp(revoked)).build();
        });
  }

  @Override
  public void getJwks(GetJwksRequest request, StreamObserver<GetJwksResponse> observer) {
    Unary.respond(
        observer,
        () -> {
          GetJwksResponse.Builder b = GetJwksResponse.newBuilder();
          signingKeys.publishedKeys().forEach(k -> b.addKeys(ProtoMapper.jwk(k)));
          return b.build();
        });
  }

  private static String required(String value, String field) {
    return required(value, field, 4096);
  }

  private static String required(String value, String field, int maxLength) {
    if (value.isEmpty() || value.length() > maxLength) {
      throw AuthorityException.invalidField(field, value.isEmpty() ? "is required" : "is too long");
    }
    return value;
  }
}
