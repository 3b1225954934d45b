package dev.tokenauthority.server.store.memory;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.ratelimit.MemoryRateLimitStore;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A store in the process's memory, for development, tests and sidecars that can afford to lose
 * their sessions on restart: fast, thread-safe, and gone when the process ends. Every
 * conditional write is a single {@code compute} on one map entry, so it is atomic without a
 * global lock. One object serves every concern, since a redeem reads the API key map.
 */
public final class MemoryStore
    implements Store, TenantStore, ApiKeyStore, SessionStore, SigningKeyStore, RateLimitStore {
  private static final Comparator<ApiKey> CREATION_ORDER =
      Comparator.comparing(ApiKey::createTime).thenComparing(ApiKey::id);

  private final ConcurrentSkipListMap<String, Tenant> tenants = new ConcurrentSkipListMap<>();
  private final ConcurrentHashMap<String, ApiKey> keysById = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<SecretHash, String> keyIdBySecretHash = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, StoredSession> sessions = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<SigningKey> signingKeys = new CopyOnWriteArrayList<>();
  /** Redemptions by "tenant month", for tenants with a quota. */
  private final ConcurrentHashMap<String, AtomicLong> usage = new ConcurrentHashMap<>();
  private final MemoryRateLimitStore rateLimits = new MemoryRateLimitStore();
  private final int maxSessions;

  /**
   * A store sized to this JVM's heap: at most one session per 400 bytes of maximum heap (a
   * session takes about 290), 1.3 million for -Xmx512m. Beyond that a mint fails fast as
   * STORE_UNAVAILABLE instead of driving the collector into a stall that takes the whole
   * process down.
   */
  public MemoryStore() {
    this((int) Math.min(Integer.MAX_VALUE, Runtime.getRuntime().maxMemory() / 400));
  }

  /** A store that holds at most {@code maxSessions} sessions at once. */
  public MemoryStore(int maxSessions) {
    this.maxSessions = maxSessions;
  }

  @Override
  public TenantStore tenants() {
    return this;
  }

  @Override
  public ApiKeyStore apiKeys() {
    return this;
  }

  @Override
  public SessionStore sessions() {
    return this;
  }

  @Override
  public SigningKeyStore signingKeys() {
    return this;
  }

  @Override
  public RateLimitStore rateLimits() {
    return this;
  }

  @Override
  public StoreKind kind() {
    return StoreKind.MEMORY;
  }

  @Override
  public boolean isServing() {
    return true;
  }

  @Override
  public void close() {}

  // Tenants

  @Override
  public Optional<Tenant> findTenant(String id) {
    return Optional.ofNullable(tenants.get(id));
  }

  @Override
  public boolean insertTenant(Tenant tenant) {
    return tenants.putIfAbsent(tenant.id(), tenant) == null;
  }

  @Override
  public boolean updateTenant(Tenant current, Tenant updated) {
    return tenants.replace(current.id(), current, updated);
  }

  @Override
  public List<Tenant> listTenants(String afterId, int limit) {
    var tail = afterId.isEmpty() ? tenants : tenants.tailMap(afterId, false);
    return tail.values().stream().limit(limit).toList();
  }

  // API keys

  @Override
  public synchronized boolean insertApiKey(ApiKey key) {
    if (keysById.containsKey(key.id()) || keyIdBySecretHash.putIfAbsent(key.secretHash(), key.id()) != null) {
      return false;
    }
    keysById.put(key.id(), key);
    return true;
  }

  @Override
  public Optional<ApiKey> findApiKeyBySecretHash(SecretHash hash) {
    String id = keyIdBySecretHash.get(hash);
    return id == null ? Optional.empty() : Optional.ofNullable(keysById.get(id));
  }

  @Override
  public Optional<ApiKey> findApiKey(String id) {
    return Optional.ofNullable(keysById.get(id));
  }

  @Override
  public List<ApiKey> listApiKeys(String tenantId, ApiKeyCursor after, int limit) {
    return keysById.values().stream()
        .filter(k -> k.tenantId().equals(tenantId) && !k.isRevoked())
        .filter(k -> after == null || CREATION_ORDER.compare(k, cursorKey(after)) > 0)
        .sorted(CREATION_ORDER)
        .limit(limit)
        .toList();
  }

  private static ApiKey cursorKey(ApiKeyCursor after) {
    return new ApiKey(after.id(), "", "", List.of(), List.of(), null, "", after.createTime(), null, null, null);
  }

  @Override
  public Optional<Instant> revokeApiKey(String id, Instant now) {
    ApiKey key = keysById.computeIfPresent(id, (k, v) -> v.isRevoked() ? v : v.withRevokeTime(now));
    return key == null ? Optional.empty() : Optional.of(key.revokeTime());
  }

  @Override
  public CompletableFuture<Void> recordApiKeyUse(String id, Instant time) {
    keysById.computeIfPresent(
        id, (k, v) -> v.lastUsedTime() == null || v.lastUsedTime().isBefore(time) ? v.withLastUsedTime(time) : v);
    return CompletableFuture.completedFuture(null);
  }

  // Sessions

  /**
   * A session as this store keeps it: times as epoch milliseconds and the token hash as four
   * longs, about half the heap of a {@link Session} with its {@code Instant}s and digest object,
   * so that a million outstanding sessions fit in well under 512 MiB. Immutable: a consume
   * replaces it inside the map's atomic {@code compute}.
   */
  private record StoredSession(
      String id,
      String tenantId,
      String apiKeyId,
      String externalUserId,
      String externalGroupId,
      String audience,
      List<String> scopes,
      String origin,
      byte[] context,
      long hash0,
      long hash1,
      long hash2,
      long hash3,
      long issueMillis,
      long expireMillis,
      long revokeMillis,
      int maxUses,
      int usesRemaining) {

    static final long NOT_REVOKED = Long.MIN_VALUE;
    static final byte[] NO_CONTEXT = new byte[0];

    static StoredSession of(Session s) {
      SecretHash h = s.tokenHash();
      return new StoredSession(
          s.id(), s.tenantId(), s.apiKeyId(), s.externalUserId(), s.externalGroupId(), s.audience(), s.scopes(),
          s.origin(), s.context().length == 0 ? NO_CONTEXT : s.context(), h.word(0), h.word(1), h.word(2), h.word(3),
          s.issueTime().toEpochMilli(), s.expireTime().toEpochMilli(),
          s.revokeTime() == null ? NOT_REVOKED : s.revokeTime().toEpochMilli(), s.maxUses(), s.usesRemaining());
    }

    Session toSession() {
      byte[] digest = java.nio.ByteBuffer.allocate(32).putLong(hash0).putLong(hash1).putLong(hash2).putLong(hash3).array();
      return new Session(
          id, tenantId, apiKeyId, externalUserId, externalGroupId, audience, scopes, origin, context,
          SecretHash.fromDigest(digest), Instant.ofEpochMilli(issueMillis), Instant.ofEpochMilli(expireMillis), maxUses,
          usesRemaining, revokeMillis == NOT_REVOKED ? null : Instant.ofEpochMilli(revokeMillis));
    }

    boolean isRevoked() {
      return revokeMillis != NOT_REVOKED;
    }

    StoredSession withUsesRemaining(int remaining) {
      return new StoredSession(
          id, tenantId, apiKeyId, externalUserId, externalGroupId, audience, scopes, origin, context, hash0, hash1, hash2,
          hash3, issueMillis, expireMillis, revokeMillis, maxUses, remaining);
    }

    StoredSession withRevokeMillis(long millis) {
      return new StoredSession(
          id, tenantId, apiKeyId, externalUserId, externalGroupId, audience, scopes, origin, context, hash0, hash1, hash2,
          hash3, issueMillis, expireMillis, millis, maxUses, usesRemaining);
    }
  }

  @Override
  public CompletableFuture<Void> insertSession(Session session) {
    if (sessions.size() >= maxSessions) {
      return CompletableFuture.failedFuture(new StoreUnavailableException(
          "the memory store holds its maximum of " + maxSessions + " sessions; give it more heap or use sqlite", null));
    }
    if (sessions.putIfAbsent(session.id(), StoredSession.of(session)) != null) {
      return CompletableFuture.failedFuture(new IllegalStateException("a session with this id exists already"));
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<Optional<Session>> findSessionForToken(String id, SecretHash tokenHash) {
    StoredSession s = sessions.get(id);
    return CompletableFuture.completedFuture(
        s != null && tokenHash.matches(s.hash0(), s.hash1(), s.hash2(), s.hash3()) ? Optional.of(s.toSession()) : Optional.empty());
  }

  @Override
  public CompletableFuture<Redemption> redeemSessionUse(
      String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {
    return SessionStore.lookUpThenConsume(this, id, tokenHash, check, now, quota);
  }

  @Override
  public Optional<Session> findSession(String id) {
    StoredSession s = sessions.get(id);
    return s == null ? Optional.empty() : Optional.of(s.toSession());
  }

  @Override
  public CompletableFuture<ConsumeResult> consumeSessionUse(String id, Instant now, QuotaCharge quota) {
    ConsumeResult[] result = {ConsumeResult.refused(Outcome.NOT_FOUND)};
    long nowMillis = now.toEpochMilli();
    sessions.computeIfPresent(
        id,
        (k, s) -> {
          ApiKey minter = keysById.get(s.apiKeyId());
          if (s.isRevoked() || minter == null || minter.isRevoked()) {
            result[0] = ConsumeResult.refused(Outcome.REVOKED);
            return s;
          }
          if (nowMillis >= s.expireMillis()) {
            result[0] = ConsumeResult.refused(Outcome.EXPIRED);
            return s;
          }
          if (s.usesRemaining() <= 0) {
            result[0] = ConsumeResult.refused(Outcome.ALREADY_USED);
            return s;
          }
          if (quota != null && !charge(quota)) {
            result[0] = ConsumeResult.refused(Outcome.QUOTA_EXCEEDED);
            return s;
          }
          result[0] = ConsumeResult.consumed(s.usesRemaining() - 1);
          return s.withUsesRemaining(s.usesRemaining() - 1);
        });
    return CompletableFuture.completedFuture(result[0]);
  }

  /** Counts one redemption unless the month's count has reached the limit. */
  private boolean charge(QuotaCharge quota) {
    AtomicLong count = usage.computeIfAbsent(quota.tenantId() + " " + quota.month(), k -> new AtomicLong());
    long n;
    do {
      n = count.get();
      if (n >= quota.limit()) {
        return false;
      }
    } while (!count.compareAndSet(n, n + 1));
    return true;
  }

  @Override
  public long countRedemptions(String tenantId, String month) {
    AtomicLong count = usage.get(tenantId + " " + month);
    return count == null ? 0 : count.get();
  }

  // Rate limits

  @Override
  public CompletableFuture<Long> admitRateLimited(String bucket, long intervalMicros, long periodMicros, long nowMicros) {
    return rateLimits.admitRateLimited(bucket, intervalMicros, periodMicros, nowMicros);
  }

  @Override
  public CompletableFuture<Long> peekRateLimited(String bucket) {
    return rateLimits.peekRateLimited(bucket);
  }

  @Override
  public CompletableFuture<Void> refundRateLimited(String bucket, long intervalMicros) {
    return rateLimits.refundRateLimited(bucket, intervalMicros);
  }

  @Override
  public List<String> purgeRateLimits(long nowMicros, String afterBucket, int limit) {
    return rateLimits.purgeRateLimits(nowMicros, afterBucket, limit);
  }

  @Override
  public Optional<Instant> revokeSession(String id, Instant now) {
    StoredSession s = sessions.computeIfPresent(id, (k, v) -> v.isRevoked() ? v : v.withRevokeMillis(now.toEpochMilli()));
    return s == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(s.revokeMillis()));
  }

  @Override
  public int purgeExpiredSessions(Instant before, int limit) {
    long beforeMillis = before.toEpochMilli();
    int deleted = 0;
    for (Iterator<StoredSession> it = sessions.values().iterator(); it.hasNext() && deleted < limit; ) {
      if (it.next().expireMillis() < beforeMillis) {
        it.remove();
        deleted++;
      }
    }
    return deleted;
  }

  @Override
  public long countLiveSessions(Instant now) {
    long nowMillis = now.toEpochMilli();
    long live = 0;
    for (StoredSession s : sessions.values()) {
      if (s.expireMillis() > nowMillis) {
        live++;
      }
    }
    return live;
  }

  // Signing keys

  @Override
  public List<SigningKey> listSigningKeys() {
    List<SigningKey> keys = new ArrayList<>(signingKeys);
    keys.sort(Comparator.comparing(SigningKey::createTime).thenComparing(SigningKey::kid).reversed());
    return keys;
  }

  @Override
  public void insertSigningKey(SigningKey key) {
    signingKeys.add(key);
  }

  @Override
  public void forgetPrivateKey(String kid) {
    signingKeys.replaceAll(k -> k.kid().equals(kid) ? new SigningKey(k.kid(), new byte[0], k.publicKeyX509(), k.createTime()) : k);
  }

  @Override
  public void deleteSigningKey(String kid) {
    signingKeys.removeIf(k -> k.kid().equals(kid));
  }
}
