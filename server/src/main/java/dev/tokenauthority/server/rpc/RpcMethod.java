package dev.tokenauthority.server.rpc;

/**
 * What the authority knows of one RPC, whichever transport carries it: who may call it, whether
 * it is audited when it succeeds, whether its responses carry the caller's rate limit, and
 * whether a cancelled tenant's caller is refused up front. Whether a client may repeat it is the
 * client library's to decide ({@code TokenAuthorityClient}); the server never reads it.
 *
 * @param fullName the gRPC full method name, {@code package.Service/Method}
 * @param access who may call it
 * @param changesState a success changes state, so it is audited (a refusal of any RPC always is)
 * @param rateLimitHeaders its responses carry {@code x-ratelimit-*} (and {@code retry-after} when limited)
 * @param checksCallerTenant a caller whose tenant's subscription is cancelled is refused at once
 *     (the tenant's own calls; TenantAdmin's are not, nor any call of the default tenant's admin
 *     key, which must stay able to revoke a leaked key of any tenant)
 */
public record RpcMethod(
    String fullName,
    Access access,
    boolean changesState,
    boolean rateLimitHeaders,
    boolean checksCallerTenant) {

  /** The service part of {@link #fullName}. */
  public String serviceName() {
    return fullName.substring(0, fullName.indexOf('/'));
  }
}
