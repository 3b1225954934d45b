package dev.tokenauthority.client;

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
import io.grpc.Channel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A small typed wrapper over the generated blocking stub: the API key travels as call
 * credentials and every call gets a deadline. Thread-safe; it does not own the channel.
 * Failures are {@link io.grpc.StatusRuntimeException}s whose details carry a
 * {@code google.rpc.ErrorInfo} reason.
 */
public final class TokenAuthorityClient {
  private final TokenAuthorityGrpc.TokenAuthorityBlockingStub stub;
  private final Duration deadline;

  public TokenAuthorityClient(Channel channel, String apiKey, Duration deadline) {
    this.stub = TokenAuthorityGrpc.newBlockingStub(channel).withCallCredentials(new ApiKeyCredentials(apiKey));
    this.deadline = deadline;
  }

  private TokenAuthorityGrpc.TokenAuthorityBlockingStub call() {
    return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Mints a single-use session token for one of your authenticated users. */
  public MintSessionResponse mint(String externalUserId) {
    return mint(MintSessionRequest.newBuilder().setExternalUserId(externalUserId).build());
  }

  public MintSessionResponse mint(MintSessionRequest request) {
    return call().mintSession(request);
  }

  /** Consumes one use of a token. Never retry blindly: a retry consumes another use. */
  public RedeemResponse redeem(String token) {
    return redeem(RedeemRequest.newBuilder().setToken(token).build());
  }

  public RedeemResponse redeem(RedeemRequest request) {
    return call().redeem(request);
  }

  public IntrospectResponse introspect(String token) {
    return call().introspect(IntrospectRequest.newBuilder().setToken(token).build());
  }

  public CreateApiKeyResponse createApiKey(CreateApiKeyRequest request) {
    return call().createApiKey(request);
  }

  public ListApiKeysResponse listApiKeys(ListApiKeysRequest request) {
    return call().listApiKeys(request);
  }

  public RevokeResponse revokeApiKey(String apiKeyId) {
    return call().revoke(RevokeRequest.newBuilder().setApiKeyId(apiKeyId).build());
  }

  public RevokeResponse revokeSession(String sessionId) {
    return call().revoke(RevokeRequest.newBuilder().setSessionId(sessionId).build());
  }

  public GetJwksResponse getJwks() {
    return call().getJwks(GetJwksRequest.getDefaultInstance());
  }
}
