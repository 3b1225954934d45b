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
   */
  CompletableFuture<Optional<Session>> findSessionForToken(String id, SecretHash tokenHash);

  /**
   * A redeem's store work: finds the session as {@link #findSessionForToken} does and, when
   * {@code check} lets it be redeemed, consumes one use of it as {@link #consumeSessionUse} does,
   * with the outcomes of those two calls made in turn. A store may do both in one visit (SQLite:
   * one turn of its writer, reading the row where it then writes it, in the transaction that
   * commits the use); others may make the two calls ({@link #lookUpThenConsume}). The future
   * completes once the use is committed, or the session was found missing or refused, and fails
   * rather than throws when the store cannot answer.
   *
   * @param check runs where the store runs it, possibly on the thread every write waits for: it
   *     must be quick, wait for nothing, and have no effect but its answer
   * @param quota null when the tenant has no quota
   */
  CompletableFuture<Redemption> redeemSessionUse(
      String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota);

  /** Whether a found session may have a use taken, before the store tries to take it. */
  @FunctionalInterface
  interface RedeemCheck {
    /** Returns when the session may be redeemed; throws the refusal when not. */
    void check(Session session);
  }

  /**
   * The outcome of {@link #redeemSessionUse}: no session (null {@code session}); a session its
   * check refused ({@code refusal}, nothing written); or a session and what its consume did.
   */
  record Redemption(Session session, RuntimeException refusal, ConsumeResult consumed) {
    public static Redemption notFound() {
      return new Redemption(null, null, null);
    }

    public static Redemption refused(Session session, RuntimeException refusal) {
      return new Redemption(session, refusal, null);
    }

    public static Redemption consumed(Session session, ConsumeResult consumed) {
      return new Redemption(session, null, consumed);
    }

    /**
     * Where a redeem ends before its consume, given what the lookup found: not found, or its
     * check's refusal (a result, not a failure: a store that runs it inside a write must not
     * roll back the writes beside it); null when the consume should follow.
     */
    public static Redemption stoppedBeforeConsume(Optional<Session> found, RedeemCheck check) {
      if (found.isEmpty()) {
        return notFound();
      }
      try {
        check.check(found.get());
        return null;
      } catch (RuntimeException refusal) {
        return refused(found.get(), refusal);
      }
    }
  }

  /**
   * {@link #redeemSessionUse} as the lookup, the check on the thread that completes it, then the
   * consume: for a store whose lookups and consumes are cheapest apart (in memory; PostgreSQL,
   * which groups each kind across concurrent calls).
   */
  static CompletableFuture<Redemption> lookUpThenConsume(
      SessionStore store, String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {
    return store
        .findSessionForToken(id, tokenHash)
        .thenCompose(
            found -> {
              Redemption stopped = Redemption.stoppedBeforeConsume(found, check);
              return stopped != null
                  ? CompletableFuture.completedFuture(stopped)
                  : store.consumeSessionUse(id, now, quota).thenApply(result -> Redemption.consumed(found.get(), result));
            });
  }

  /** The session with this id. */
  Optional<Session> findSession(String id);

  /**
   * Consumes one use of a session if, at {@code now}, it is unexpired, unrevoked, has a use
   * left, and the API key that minted it is not revoked (revoking a key revokes its sessions).
   * With a quota, the use is also counted for the tenant's month: when the use could be
   * consumed but the count has reached {@code quota.limit()}, the session keeps its use and the
   * outcome is QUOTA_EXCEEDED. A store counts in the use's own transaction or, on PostgreSQL,
   * beside it in a write that a crash of the database may forget (docs/design.md). The
   * future completes once the use is committed and counted, and fails rather than throws.
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
