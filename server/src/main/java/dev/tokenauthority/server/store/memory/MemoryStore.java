package dev.tokenauthority.server.store.memory;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.tenant.Tenant;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A store in the process's memory, for development and tests: fast, thread-safe, and gone
 * when the process ends. Every conditional write is a single {@code compute} on one map entry,
 * so it is atomic without a global lock.
 */
public final class MemoryStore implements Store {
  private static final Comparator<ApiKey> CREATION_ORDER =
      Comparator.comparing(ApiKey::createTime).thenComparing(ApiKey::id);

  private final ConcurrentSkipListMap<String, Tenant> tenants = new ConcurrentSkipListMap<>();
  private final ConcurrentHashMap<String, ApiKey> keysById = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<SecretHash, String> keyIdBySecretHash = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Session> sessionsById = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<SecretHash, String> sessionIdByTokenHash = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<SigningKey> signingKeys = new CopyOnWriteArrayList<>();

  @Override
  public String kind() {
    return "memory";
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
  public boolean updateTenant(Tenant tenant) {
    return tenants.replace(tenant.id(), tenant) != null;
  }

  @Override
  public List<Tenant> listTenants(String afterId, int limit) {
    var tail = afterId.isEmpty() ? tenants : tenants.tailMap(afterId, false);
    return tail.values().stream().limit(limit).toList();
  }

  // API keys

  @Override
  public void insertApiKey(ApiKey key) {
    if (keyIdBySecretHash.putIfAbsent(key.secretHash(), key.id()) != null) {
      throw new IllegalStateException("an API key with this secret exists already");
    }
    keysById.put(key.id(), key);
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
  public void recordApiKeyUse(String id, Instant time) {
    keysById.computeIfPresent(
        id, (k, v) -> v.lastUsedTime() == null || v.lastUsedTime().isBefore(time) ? v.withLastUsedTime(time) : v);
  }

  // Sessions

  @Override
  public void insertSession(Session session) {
    if (sessionIdByTokenHash.putIfAbsent(session.tokenHash(), session.id()) != null) {
      throw new IllegalStateException("a session with this token exists already");
    }
    sessionsById.put(session.id(), session);
  }

  @Override
  public Optional<Session> findSessionByTokenHash(SecretHash hash) {
    String id = sessionIdByTokenHash.get(hash);
    return id == null ? Optional.empty() : Optional.ofNullable(sessionsById.get(id));
  }

  @Override
  public Optional<Session> findSession(String id) {
    return Optional.ofNullable(sessionsById.get(id));
  }

  @Override
  public ConsumeResult consumeSessionUse(String id, Instant now) {
    ConsumeResult[] result = {ConsumeResult.refused(Outcome.NOT_FOUND)};
    sessionsById.computeIfPresent(
        id,
        (k, s) -> {
          ApiKey minter = keysById.get(s.apiKeyId());
          if (s.revokeTime() != null || minter == null || minter.isRevoked()) {
            result[0] = ConsumeResult.refused(Outcome.REVOKED);
            return s;
          }
          if (s.isExpiredAt(now)) {
            result[0] = ConsumeResult.refused(Outcome.EXPIRED);
            return s;
          }
          if (s.usesRemaining() <= 0) {
            result[0] = ConsumeResult.refused(Outcome.ALREADY_USED);
            return s;
          }
          result[0] = ConsumeResult.consumed(s.usesRemaining() - 1);
          return s.withUsesRemaining(s.usesRemaining() - 1);
        });
    return result[0];
  }

  @Override
  public Optional<Instant> revokeSession(String id, Instant now) {
    Session s = sessionsById.computeIfPresent(id, (k, v) -> v.revokeTime() != null ? v : v.withRevokeTime(now));
    return s == null ? Optional.empty() : Optional.of(s.revokeTime());
  }

  @Override
  public int purgeExpiredSessions(Instant before, int limit) {
    int deleted = 0;
    for (Iterator<Session> it = sessionsById.values().iterator(); it.hasNext() && deleted < limit; ) {
      Session s = it.next();
      if (s.expireTime().isBefore(before)) {
        it.remove();
        sessionIdByTokenHash.remove(s.tokenHash(), s.id());
        deleted++;
      }
    }
    return deleted;
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
}
