package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.secret.SecretHash;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Storage of API keys. Implementations are thread-safe, and a write returns only once it is
 * committed.
 */
public interface ApiKeyStore {
  /**
   * Stores a new key.
   *
   * @return false, storing nothing, when a key with this id or this secret exists already
   *     (another replica storing the same configured admin key at the same moment)
   */
  boolean insertApiKey(ApiKey key);

  /** The key whose secret hashes to {@code hash}, revoked or not. */
  Optional<ApiKey> findApiKeyBySecretHash(SecretHash hash);

  /** The key with this id, in any tenant, revoked or not. */
  Optional<ApiKey> findApiKey(String id);

  /**
   * Up to {@code limit} unrevoked keys of a tenant in creation order (then by id), starting
   * after {@code after} (null: from the first).
   */
  List<ApiKey> listApiKeys(String tenantId, ApiKeyCursor after, int limit);

  /**
   * Revokes a key for good.
   *
   * @return the time it was revoked (the earlier time if it already was), or empty when no key
   *     has this id
   */
  Optional<Instant> revokeApiKey(String id, Instant now);

  /**
   * Records that a key authenticated a call at {@code time}, keeping the latest time. The future
   * completes once committed; bookkeeping that must not slow the call that caused it need not
   * wait for it, and may lose the write on failure.
   */
  CompletableFuture<Void> recordApiKeyUse(String id, Instant time);

  /** A position in a key listing: the last key of the previous page. */
  record ApiKeyCursor(Instant createTime, String id) {}
}
