package dev.tokenauthority.server.metrics;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.tenant.Tenant;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link Store} that times every operation of another, per operation, into
 * {@code token_authority_store_operation_duration_seconds}; writes are timed until committed,
 * asynchronous ones until their future completes. Every method delegates, defaults included, so
 * the wrapped store's own asynchronous paths are kept.
 */
public final class TimedStore implements Store {
  private final Store delegate;
  private final Timer findTenant;
  private final Timer insertTenant;
  private final Timer updateTenant;
  private final Timer listTenants;
  private final Timer insertApiKey;
  private final Timer findApiKeyBySecretHash;
  private final Timer findApiKey;
  private final Timer listApiKeys;
  private final Timer revokeApiKey;
  private final Timer recordApiKeyUse;
  private final Timer insertSession;
  private final Timer findSessionForToken;
  private final Timer findSession;
  private final Timer consumeSessionUse;
  private final Timer countRedemptions;
  private final Timer revokeSession;
  private final Timer purgeExpiredSessions;
  private final Timer countLiveSessions;
  private final Timer listSigningKeys;
  private final Timer insertSigningKey;
  private final Timer admitRateLimited;
  private final Timer purgeRateLimits;

  public TimedStore(Store delegate, Metrics metrics) {
    this.delegate = delegate;
    findTenant = metrics.storeTimer("findTenant");
    insertTenant = metrics.storeTimer("insertTenant");
    updateTenant = metrics.storeTimer("updateTenant");
    listTenants = metrics.storeTimer("listTenants");
    insertApiKey = metrics.storeTimer("insertApiKey");
    findApiKeyBySecretHash = metrics.storeTimer("findApiKeyBySecretHash");
    findApiKey = metrics.storeTimer("findApiKey");
    listApiKeys = metrics.storeTimer("listApiKeys");
    revokeApiKey = metrics.storeTimer("revokeApiKey");
    recordApiKeyUse = metrics.storeTimer("recordApiKeyUse");
    insertSession = metrics.storeTimer("insertSession");
    findSessionForToken = metrics.storeTimer("findSessionForToken");
    findSession = metrics.storeTimer("findSession");
    consumeSessionUse = metrics.storeTimer("consumeSessionUse");
    countRedemptions = metrics.storeTimer("countRedemptions");
    revokeSession = metrics.storeTimer("revokeSession");
    purgeExpiredSessions = metrics.storeTimer("purgeExpiredSessions");
    countLiveSessions = metrics.storeTimer("countLiveSessions");
    listSigningKeys = metrics.storeTimer("listSigningKeys");
    insertSigningKey = metrics.storeTimer("insertSigningKey");
    admitRateLimited = metrics.storeTimer("admitRateLimited");
    purgeRateLimits = metrics.storeTimer("purgeRateLimits");
  }

  private static <T> T time(Timer timer, Supplier<T> operation) {
    long start = System.nanoTime();
    try {
      return operation.get();
    } finally {
      timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  private static void timeVoid(Timer timer, Runnable operation) {
    long start = System.nanoTime();
    try {
      operation.run();
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

  @Override
  public String kind() {
    return delegate.kind();
  }

  @Override
  public boolean isShared() {
    return delegate.isShared();
  }

  @Override
  public boolean isServing() {
    return delegate.isServing();
  }

  @Override
  public void close() {
    delegate.close();
  }

  // Tenants

  @Override
  public Optional<Tenant> findTenant(String id) {
    return time(findTenant, () -> delegate.findTenant(id));
  }

  @Override
  public boolean insertTenant(Tenant tenant) {
    return time(insertTenant, () -> delegate.insertTenant(tenant));
  }

  @Override
  public boolean updateTenant(Tenant tenant) {
    return time(updateTenant, () -> delegate.updateTenant(tenant));
  }

  @Override
  public List<Tenant> listTenants(String afterId, int limit) {
    return time(listTenants, () -> delegate.listTenants(afterId, limit));
  }

  // API keys

  @Override
  public boolean insertApiKey(ApiKey key) {
    return time(insertApiKey, () -> delegate.insertApiKey(key));
  }

  @Override
  public Optional<ApiKey> findApiKeyBySecretHash(SecretHash hash) {
    return time(findApiKeyBySecretHash, () -> delegate.findApiKeyBySecretHash(hash));
  }

  @Override
  public Optional<ApiKey> findApiKey(String id) {
    return time(findApiKey, () -> delegate.findApiKey(id));
  }

  @Override
  public List<ApiKey> listApiKeys(String tenantId, ApiKeyCursor after, int limit) {
    return time(listApiKeys, () -> delegate.listApiKeys(tenantId, after, limit));
  }

  @Override
  public Optional<Instant> revokeApiKey(String id, Instant now) {
    return time(revokeApiKey, () -> delegate.revokeApiKey(id, now));
  }

  @Override
  public void recordApiKeyUse(String id, Instant time) {
    timeVoid(recordApiKeyUse, () -> delegate.recordApiKeyUse(id, time));
  }

  @Override
  public void recordApiKeyUseLater(String id, Instant time) {
    // Returns before the write by contract: timing it would only time the hand-off.
    delegate.recordApiKeyUseLater(id, time);
  }

  // Sessions

  @Override
  public void insertSession(Session session) {
    timeVoid(insertSession, () -> delegate.insertSession(session));
  }

  @Override
  public CompletableFuture<Void> insertSessionAsync(Session session) {
    return timeAsync(insertSession, () -> delegate.insertSessionAsync(session));
  }

  @Override
  public Optional<Session> findSessionForToken(String id, SecretHash tokenHash) {
    return time(findSessionForToken, () -> delegate.findSessionForToken(id, tokenHash));
  }

  @Override
  public CompletableFuture<Optional<Session>> findSessionForTokenAsync(String id, SecretHash tokenHash) {
    return timeAsync(findSessionForToken, () -> delegate.findSessionForTokenAsync(id, tokenHash));
  }

  @Override
  public Optional<Session> findSession(String id) {
    return time(findSession, () -> delegate.findSession(id));
  }

  @Override
  public ConsumeResult consumeSessionUse(String id, Instant now) {
    return time(consumeSessionUse, () -> delegate.consumeSessionUse(id, now));
  }

  @Override
  public ConsumeResult consumeSessionUse(String id, Instant now, QuotaCharge quota) {
    return time(consumeSessionUse, () -> delegate.consumeSessionUse(id, now, quota));
  }

  @Override
  public CompletableFuture<ConsumeResult> consumeSessionUseAsync(String id, Instant now) {
    return timeAsync(consumeSessionUse, () -> delegate.consumeSessionUseAsync(id, now));
  }

  @Override
  public CompletableFuture<ConsumeResult> consumeSessionUseAsync(String id, Instant now, QuotaCharge quota) {
    return timeAsync(consumeSessionUse, () -> delegate.consumeSessionUseAsync(id, now, quota));
  }

  @Override
  public long countRedemptions(String tenantId, String month) {
    return time(countRedemptions, () -> delegate.countRedemptions(tenantId, month));
  }

  @Override
  public Optional<Instant> revokeSession(String id, Instant now) {
    return time(revokeSession, () -> delegate.revokeSession(id, now));
  }

  @Override
  public int purgeExpiredSessions(Instant before, int limit) {
    return time(purgeExpiredSessions, () -> delegate.purgeExpiredSessions(before, limit));
  }

  @Override
  public long countLiveSessions(Instant now) {
    return time(countLiveSessions, () -> delegate.countLiveSessions(now));
  }

  // Signing keys

  @Override
  public List<SigningKey> listSigningKeys() {
    return time(listSigningKeys, delegate::listSigningKeys);
  }

  @Override
  public void insertSigningKey(SigningKey key) {
    timeVoid(insertSigningKey, () -> delegate.insertSigningKey(key));
  }

  // Rate limits

  @Override
  public CompletableFuture<Long> admitRateLimited(String bucket, long intervalMicros, long periodMicros, long nowMicros) {
    return timeAsync(admitRateLimited, () -> delegate.admitRateLimited(bucket, intervalMicros, periodMicros, nowMicros));
  }

  @Override
  public int purgeRateLimits(long nowMicros) {
    return time(purgeRateLimits, () -> delegate.purgeRateLimits(nowMicros));
  }
}
