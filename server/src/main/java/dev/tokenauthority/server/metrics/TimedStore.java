package dev.tokenauthority.server.metrics;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.ratelimit.RateLimitStore;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.signing.SigningKeyStore;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantStore;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link Store} that times every operation of another, per operation, into
 * {@code token_authority_store_operation_duration_seconds}: reads until they return, writes
 * until committed (asynchronous ones until their future completes). Each store interface has
 * only abstract operations, so the compiler sees to it that every one is timed here.
 */
public final class TimedStore implements Store {
  private final Store delegate;
  private final TenantStore tenants;
  private final ApiKeyStore apiKeys;
  private final SessionStore sessions;
  private final SigningKeyStore signingKeys;
  private final RateLimitStore rateLimits;

  public TimedStore(Store delegate, Metrics metrics) {
    this.delegate = delegate;
    this.tenants = new Tenants(delegate.tenants(), metrics);
    this.apiKeys = new ApiKeys(delegate.apiKeys(), metrics);
    this.sessions = new Sessions(delegate.sessions(), metrics);
    this.signingKeys = new SigningKeys(delegate.signingKeys(), metrics);
    this.rateLimits = new RateLimits(delegate.rateLimits(), metrics);
  }

  @Override
  public TenantStore tenants() {
    return tenants;
  }

  @Override
  public ApiKeyStore apiKeys() {
    return apiKeys;
  }

  @Override
  public SessionStore sessions() {
    return sessions;
  }

  @Override
  public SigningKeyStore signingKeys() {
    return signingKeys;
  }

  @Override
  public RateLimitStore rateLimits() {
    return rateLimits;
  }

  @Override
  public StoreKind kind() {
    return delegate.kind();
  }

  @Override
  public boolean isServing() {
    return delegate.isServing();
  }

  @Override
  public void close() {
    delegate.close();
  }

  private static <T> T time(Timer timer, Supplier<T> operation) {
    long start = System.nanoTime();
    try {
      return operation.get();
    } finally {
      timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  private static <T> CompletableFuture<T> timeAsync(Timer timer, Supplier<CompletableFuture<T>> operation) {
    long start = System.nanoTime();
    CompletableFuture<T> future;
    try {
      future = operation.get();
    } catch (RuntimeException e) {
      timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      throw e;
    }
    // Record on completion without changing the future the caller gets (nor its thread).
    future.whenComplete((r, t) -> timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
    return future;
  }

  private static final class Tenants implements TenantStore {
    private final TenantStore delegate;
    private final Timer find;
    private final Timer insert;
    private final Timer update;
    private final Timer list;

    Tenants(TenantStore delegate, Metrics metrics) {
      this.delegate = delegate;
      find = metrics.storeTimer("findTenant");
      insert = metrics.storeTimer("insertTenant");
      update = metrics.storeTimer("updateTenant");
      list = metrics.storeTimer("listTenants");
    }

    @Override
    public Optional<Tenant> findTenant(String id) {
      return time(find, () -> delegate.findTenant(id));
    }

    @Override
    public boolean insertTenant(Tenant tenant) {
      return time(insert, () -> delegate.insertTenant(tenant));
    }

    @Override
    public boolean updateTenant(Tenant current, Tenant updated) {
      return time(update, () -> delegate.updateTenant(current, updated));
    }

    @Override
    public List<Tenant> listTenants(String afterId, int limit) {
      return time(list, () -> delegate.listTenants(afterId, limit));
    }
  }

  private static final class ApiKeys implements ApiKeyStore {
    private final ApiKeyStore delegate;
    private final Timer insert;
    private final Timer findBySecretHash;
    private final Timer find;
    private final Timer list;
    private final Timer revoke;
    private final Timer recordUse;

    ApiKeys(ApiKeyStore delegate, Metrics metrics) {
      this.delegate = delegate;
      insert = metrics.storeTimer("insertApiKey");
      findBySecretHash = metrics.storeTimer("findApiKeyBySecretHash");
      find = metrics.storeTimer("findApiKey");
      list = metrics.storeTimer("listApiKeys");
      revoke = metrics.storeTimer("revokeApiKey");
      recordUse = metrics.storeTimer("recordApiKeyUse");
    }

    @Override
    public boolean insertApiKey(ApiKey key) {
      return time(insert, () -> delegate.insertApiKey(key));
    }

    @Override
    public Optional<ApiKey> findApiKeyBySecretHash(SecretHash hash) {
      return time(findBySecretHash, () -> delegate.findApiKeyBySecretHash(hash));
    }

    @Override
    public Optional<ApiKey> findApiKey(String id) {
      return time(find, () -> delegate.findApiKey(id));
    }

    @Override
    public List<ApiKey> listApiKeys(String tenantId, ApiKeyCursor after, int limit) {
      return time(list, () -> delegate.listApiKeys(tenantId, after, limit));
    }

    @Override
    public Optional<Instant> revokeApiKey(String id, Instant now) {
      return time(revoke, () -> delegate.revokeApiKey(id, now));
    }

    @Override
    public CompletableFuture<Void> recordApiKeyUse(String id, Instant time) {
      return timeAsync(recordUse, () -> delegate.recordApiKeyUse(id, time));
    }
  }

  private static final class Sessions implements SessionStore {
    private final SessionStore delegate;
    private final Timer insert;
    private final Timer findForToken;
    private final Timer find;
    private final Timer consumeUse;
    private final Timer redeemUse;
    private final Timer countRedemptions;
    private final Timer revoke;
    private final Timer purgeExpired;
    private final Timer countLive;

    Sessions(SessionStore delegate, Metrics metrics) {
      this.delegate = delegate;
      insert = metrics.storeTimer("insertSession");
      findForToken = metrics.storeTimer("findSessionForToken");
      find = metrics.storeTimer("findSession");
      consumeUse = metrics.storeTimer("consumeSessionUse");
      redeemUse = metrics.storeTimer("redeemSessionUse");
      countRedemptions = metrics.storeTimer("countRedemptions");
      revoke = metrics.storeTimer("revokeSession");
      purgeExpired = metrics.storeTimer("purgeExpiredSessions");
      countLive = metrics.storeTimer("countLiveSessions");
    }

    @Override
    public CompletableFuture<Void> insertSession(Session session) {
      return timeAsync(insert, () -> delegate.insertSession(session));
    }

    @Override
    public CompletableFuture<Optional<Session>> findSessionForToken(String id, SecretHash tokenHash) {
      return timeAsync(findForToken, () -> delegate.findSessionForToken(id, tokenHash));
    }

    @Override
    public CompletableFuture<Redemption> redeemSessionUse(
        String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {
      return timeAsync(redeemUse, () -> delegate.redeemSessionUse(id, tokenHash, check, now, quota));
    }

    @Override
    public Optional<Session> findSession(String id) {
      return time(find, () -> delegate.findSession(id));
    }

    @Override
    public CompletableFuture<ConsumeResult> consumeSessionUse(String id, Instant now, QuotaCharge quota) {
      return timeAsync(consumeUse, () -> delegate.consumeSessionUse(id, now, quota));
    }

    @Override
    public long countRedemptions(String tenantId, String month) {
      return time(countRedemptions, () -> delegate.countRedemptions(tenantId, month));
    }

    @Override
    public Optional<Instant> revokeSession(String id, Instant now) {
      return time(revoke, () -> delegate.revokeSession(id, now));
    }

    @Override
    public int purgeExpiredSessions(Instant before, int limit) {
      return time(purgeExpired, () -> delegate.purgeExpiredSessions(before, limit));
    }

    @Override
    public long countLiveSessions(Instant now) {
      return time(countLive, () -> delegate.countLiveSessions(now));
    }
  }

  private static final class SigningKeys implements SigningKeyStore {
    private final SigningKeyStore delegate;
    private final Timer list;
    private final Timer insert;
    private final Timer forget;
    private final Timer delete;

    SigningKeys(SigningKeyStore delegate, Metrics metrics) {
      this.delegate = delegate;
      list = metrics.storeTimer("listSigningKeys");
      insert = metrics.storeTimer("insertSigningKey");
      forget = metrics.storeTimer("forgetPrivateKey");
      delete = metrics.storeTimer("deleteSigningKey");
    }

    @Override
    public List<SigningKey> listSigningKeys() {
      return time(list, delegate::listSigningKeys);
    }

    @Override
    public void insertSigningKey(SigningKey key) {
      time(insert, () -> {
        delegate.insertSigningKey(key);
        return null;
      });
    }

    @Override
    public void forgetPrivateKey(String kid) {
      time(forget, () -> {
        delegate.forgetPrivateKey(kid);
        return null;
      });
    }

    @Override
    public void deleteSigningKey(String kid) {
      time(delete, () -> {
        delegate.deleteSigningKey(kid);
        return null;
      });
    }
  }

  private static final class RateLimits implements RateLimitStore {
    private final RateLimitStore delegate;
    private final Timer admit;
    private final Timer purge;
    private final Timer refund;
    private final Timer peek;

    RateLimits(RateLimitStore delegate, Metrics metrics) {
      this.delegate = delegate;
      admit = metrics.storeTimer("admitRateLimited");
      refund = metrics.storeTimer("refundRateLimited");
      peek = metrics.storeTimer("peekRateLimited");
      purge = metrics.storeTimer("purgeRateLimits");
    }

    @Override
    public CompletableFuture<Long> admitRateLimited(String bucket, long intervalMicros, long periodMicros, long nowMicros) {
      return timeAsync(admit, () -> delegate.admitRateLimited(bucket, intervalMicros, periodMicros, nowMicros));
    }

    @Override
    public CompletableFuture<Long> peekRateLimited(String bucket) {
      return timeAsync(peek, () -> delegate.peekRateLimited(bucket));
    }

    @Override
    public CompletableFuture<Void> refundRateLimited(String bucket, long intervalMicros) {
      return timeAsync(refund, () -> delegate.refundRateLimited(bucket, intervalMicros));
    }

    @Override
    public List<String> purgeRateLimits(long nowMicros, String afterBucket, int limit) {
      return time(purge, () -> delegate.purgeRateLimits(nowMicros, afterBucket, limit));
    }
  }
}
