package dev.tokenauthority.server.session;

import dev.tokenauthority.server.secret.SecretHash;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Storage of sessions. Implementations are thread-safe, a write returns only once it is
 * committed, and {@link #consumeSessionUse} is one atomic conditional write: of N concurrent
 * calls on a session with k uses left, exactly min(N, k) succeed.
 */
public interface SessionStore {
  /**
   * Stores a new session. The future completes once the write is committed (a store that
   * writes synchronously returns a completed one) and fails, rather than throws, when it cannot.
   */
  CompletableFuture<Void> insertSession(Session session);

  /**
   * The session with this id, if the token it was minted with hashes to {@code tokenHash}
   * (compared in constant time); empty otherwise. The future completes once the store has
   * answered (a store on another host never holds the calling thread; a local one returns a
   * completed future) and fails, rather than throws, when it cannot.
   *
   * <p>{@code purpose} says what the caller will do with the session. For
   * {@link Purpose#REDEEM} a store may answer where the consume that follows will run (SQLite:
   * on its one writer, whose page cache already holds the row, rather than on a reader whose
   * cache every commit empties); the answer is the same either way.
   */
  CompletableFuture<Optional<Session>> findSessionForToken(String id, SecretHash tokenHash, Purpose purpose);

  /** What a session is looked up for. */
  enum Purpose {
    /** To read it (introspect, revoke, Envoy's verify mode). */
    INSPECT,
    /** To consume a use of it next. */
    REDEEM
  }

  /** The session with this id. */
  Optional<Session> findSession(String id);

  /**
   * Consumes one use of a session if, at {@code now}, it is unexpired, unrevoked, has a use
   * left, and the API key that minted it is not revoked (revoking a key revokes its sessions).
   * With a quota, the same atomic write also charges it: when the use could be consumed but the
   * tenant's count for the month has reached {@code quota.limit()}, nothing changes and the
   * outcome is QUOTA_EXCEEDED. The future completes once the write is committed, and fails
   * rather than throws.
   *
   * @param quota null when the tenant has no quota
   */
  CompletableFuture<ConsumeResult> consumeSessionUse(String id, Instant now, QuotaCharge quota);

  /** Redemptions charged to a tenant's quota in a month ({@code 2026-11}); 0 when none. */
  long countRedemptions(String tenantId, String month);

  /** A charge against a tenant's monthly redemption quota. */
  record QuotaCharge(String tenantId, String month, long limit) {}

  /**
   * Revokes a session.
   *
   * @return when it was revoked (the earlier time if it already was), or empty if unknown
   */
  Optional<Instant> revokeSession(String id, Instant now);

  /**
   * Deletes up to {@code limit} sessions that expired before {@code before}, without holding
   * up other calls for longer than one such batch.
   *
   * @return how many were deleted
   */
  int purgeExpiredSessions(Instant before, int limit);

  /**
   * How many stored sessions expire after {@code now} (used up and revoked ones included: they
   * are kept until they expire). For a metric: it may scan an index, so never call it on a
   * call's path.
   */
  long countLiveSessions(Instant now);

  /** The outcome of {@link #consumeSessionUse}. */
  record ConsumeResult(Outcome outcome, int usesRemaining) {
    public static ConsumeResult consumed(int usesRemaining) {
      return new ConsumeResult(Outcome.CONSUMED, usesRemaining);
    }

    public static ConsumeResult refused(Outcome outcome) {
      return new ConsumeResult(outcome, 0);
    }
  }

  /** Why a use was or was not consumed. */
  enum Outcome {
    CONSUMED,
    NOT_FOUND,
    EXPIRED,
    REVOKED,
    ALREADY_USED,
    /** The use was left unconsumed: the tenant's monthly quota is used up. */
    QUOTA_EXCEEDED
  }
}
