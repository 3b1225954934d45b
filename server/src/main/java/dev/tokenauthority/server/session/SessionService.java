package dev.tokenauthority.server.session;

import dev.tokenauthority.contract.SessionTokens;
import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.apikey.ApiKeyStore;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.apikey.Origins;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.session.SessionStore.ConsumeResult;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.session.SessionStore.Redemption;
import dev.tokenauthority.server.signing.SessionClaims;
import dev.tokenauthority.server.signing.SessionTokenCodec;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantDirectory;
import dev.tokenauthority.server.tenant.TenantPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Session tokens: minting them for a caller's user, redeeming one use, introspecting, and
 * revoking. A redeem finds the session by the token's {@code jti} and then requires the
 * SHA-256 of the exact token string to equal the one stored at mint: only a token this
 * authority minted, byte for byte, matches, so an edited, re-signed or {@code alg: none} token
 * finds nothing. That makes the signature check on the redeem path unnecessary; the single-use
 * guarantee rests on the store's atomic conditional write.
 */
public final class SessionService {
  private static final Logger log = LoggerFactory.getLogger(SessionService.class);

  private static final int PURGE_BATCH = 1000;
  private static final Duration MINUTE = Duration.ofMinutes(1);
  private static final Duration HOUR = Duration.ofHours(1);

  private final SessionStore sessions;
  private final ApiKeyStore keys;
  private final TenantDirectory tenants;
  private final SessionTokenCodec codec;
  private final Clock clock;
  private final Duration leeway;
  private final RateLimiter rateLimiter;
  private final QuotaMeter quotas;

  /**
   * What a caller asks for when minting. Empty strings mean "not given". {@code browserOrigin}
   * is the call's own {@code origin} header, set when a browser (through a gRPC-Web proxy)
   * made the call. {@code context} is the encoded context, {@code contextDepth} how deeply it
   * nests objects and lists (0 for none, 1 for a flat object), and {@code contextNonFinite}
   * whether it holds a NaN or infinite number, all checked by {@link MintRules}.
   */
  public record MintRequest(
      String externalUserId,
      String externalGroupId,
      String audience,
      long ttlSeconds,
      int maxUses,
      List<String> scopes,
      String origin,
      byte[] context,
      int contextDepth,
      boolean contextNonFinite,
      String browserOrigin) {}

  /**
   * A minted session, its token (which only the caller ever sees), the TTL it was given (what
   * {@code expires_in_seconds} says: the expiry is at least that long after the mint) and the
   * caller's rate limit.
   */
  public record Minted(String token, Session session, long ttlSeconds, RateLimiter.Decision rateLimit) {
    @Override
    public String toString() {
      return "Minted[session=" + session.id() + ", token=redacted]";
    }
  }

  /** The result of an introspection: {@code session} is set only when the token is active. */
  public record Introspection(boolean active, ErrorReason reason, Session session) {}

  public SessionService(
      SessionStore sessions,
      ApiKeyStore keys,
      TenantDirectory tenants,
      SessionTokenCodec codec,
      Clock clock,
      Duration leeway,
      RateLimiter rateLimiter,
      Duration cacheTtl) {
    this.sessions = sessions;
    this.keys = keys;
    this.tenants = tenants;
    this.codec = codec;
    this.clock = clock;
    this.leeway = leeway;
    this.rateLimiter = rateLimiter;
    this.quotas = new QuotaMeter(sessions, cacheTtl);
  }

  /**
   * Mints a session token for the caller's tenant; returns once the session is committed. The
   * request's rules are {@link MintRules}'.
   */
  public Minted mint(Caller caller, MintRequest request) {
    return Completions.join(mintAsync(caller, request));
  }

  /**
   * Mints a session token; the future completes once the session is committed. Validation and
   * signing run on the calling thread and throw at once; only the store write is awaited.
   */
  public CompletableFuture<Minted> mintAsync(Caller caller, MintRequest request) {
    Tenant tenant = tenantOf(caller);
    MintRules.Admitted admitted = MintRules.check(caller, tenant, request);
    Instant now = clock.instant();
    quotas.checkNotExhausted(tenant, now);
    return takeRateLimits(caller, tenant, request.externalUserId(), now)
        .thenCompose(rate -> mintAdmitted(caller, request, admitted, rate));
  }

  /**
   * Takes one mint from the key's per-minute and the user's per-hour allowance, when the tenant
   * sets them; the decision reported is the tighter of the two.
   */
  private CompletableFuture<RateLimiter.Decision> takeRateLimits(Caller caller, Tenant tenant, String user, Instant now) {
    MintLimit perKey = MintLimit.ofKey(caller, tenant);
    MintLimit perUser = MintLimit.ofUser(tenant, user);
    CompletableFuture<RateLimiter.Decision> keyTaken =
        perKey != null ? perKey.take(rateLimiter, now) : CompletableFuture.completedFuture(RateLimiter.Decision.unlimited(now));
    return keyTaken.thenCompose(keyDecision -> {
      if (!keyDecision.allowed() || perUser == null) {
        return CompletableFuture.completedFuture(keyDecision);
      }
      return perUser.take(rateLimiter, now)
          .thenCompose(userDecision -> {
            if (!userDecision.allowed()) {
              // The key's call goes back: one user over their limit must not spend the
              // allowance every other user of the key shares.
              return perKey != null
                  ? perKey.giveBack(rateLimiter).thenApply(ignored -> userDecision)
                  : CompletableFuture.completedFuture(userDecision);
            }
            return CompletableFuture.completedFuture(tighter(keyDecision, userDecision));
          });
    });
  }

  /**
   * The caller's mint allowance as it stands, taking nothing, for the rate-limit headers of a
   * mint refused before it reached the limiter (an invalid request, say): every MintSession
   * answer to a known key carries them. The tighter of the key's and the user's, as a mint
   * reports; empty when the caller's tenant cannot be read, or when it limits users and the
   * request (so the user) was not read.
   */
  public CompletableFuture<Optional<RateLimiter.Decision>> mintAllowance(Caller caller, Optional<String> user) {
    Tenant tenant;
    try {
      tenant = tenantOf(caller);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    Instant now = clock.instant();
    MintLimit perKey = MintLimit.ofKey(caller, tenant);
    CompletableFuture<RateLimiter.Decision> keyLeft =
        perKey != null ? perKey.peek(rateLimiter, now) : CompletableFuture.completedFuture(RateLimiter.Decision.unlimited(now));
    if (!MintLimit.limitsUsers(tenant)) {
      return keyLeft.thenApply(Optional::of);
    }
    if (user.isEmpty()) {
      // The request was not read: the user's limit, perhaps the tighter, is unknown.
      return CompletableFuture.completedFuture(Optional.empty());
    }
    MintLimit perUser = MintLimit.ofUser(tenant, user.get());
    return keyLeft.thenCombine(
        perUser.peek(rateLimiter, now),
        (keyDecision, userDecision) -> Optional.of(tighter(keyDecision, userDecision)));
  }

  /** One of a tenant's mint limits as it applies to a call: its bucket, how many, per what. */
  private record MintLimit(String bucket, int limit, Duration period) {
    /** The key's per-minute limit, or null when the tenant sets none. */
    static MintLimit ofKey(Caller caller, Tenant tenant) {
      return tenant.mintRatePerMinute() > 0 ? new MintLimit("key:" + caller.apiKeyId(), tenant.mintRatePerMinute(), MINUTE) : null;
    }

    /** Whether the tenant limits each user's mints. */
    static boolean limitsUsers(Tenant tenant) {
      return tenant.mintRatePerUserPerHour() > 0;
    }

    /** The user's per-hour limit within the tenant, or null when the tenant sets none. */
    static MintLimit ofUser(Tenant tenant, String user) {
      return limitsUsers(tenant)
          ? new MintLimit("user:" + tenant.id() + ":" + user, tenant.mintRatePerUserPerHour(), HOUR)
          : null;
    }

    CompletableFuture<RateLimiter.Decision> take(RateLimiter limiter, Instant now) {
      return limiter.take(bucket, limit, period, now);
    }

    CompletableFuture<RateLimiter.Decision> peek(RateLimiter limiter, Instant now) {
      return limiter.peek(bucket, limit, period, now);
    }

    CompletableFuture<Void> giveBack(RateLimiter limiter) {
      return limiter.giveBack(bucket, limit, period);
    }
  }

  /** The decision the headers describe: fewer calls left, or on a tie the later reset. */
  private static RateLimiter.Decision tighter(RateLimiter.Decision key, RateLimiter.Decision user) {
    boolean userTighter = user.remaining() < key.remaining()
        || (user.remaining() == key.remaining() && user.reset().isAfter(key.reset()));
    return userTighter ? user : key;
  }

  private CompletableFuture<Minted> mintAdmitted(
      Caller caller, MintRequest request, MintRules.Admitted admitted, RateLimiter.Decision rate) {
    if (!rate.allowed()) {
      throw AuthorityException.limited(
          ErrorReason.RATE_LIMITED,
          "rate limit of " + rate.limit() + " mints reached; retry in " + rate.retryAfterSeconds() + " s",
          Map.of("subject", "mints"),
          rate);
    }
    long ttl = admitted.ttlSeconds();
    int maxUses = admitted.maxUses();
    // JWT times have second precision; the stored session uses the very same instants. The
    // expiry rounds up, so a token lives at least its TTL (rounded down, a 1 s token minted at
    // x.999 would expire a millisecond later) and expires_in_seconds is the TTL asked for.
    Instant now = clock.instant();
    Instant issued = now.truncatedTo(ChronoUnit.SECONDS);
    Instant expires = issued.plusSeconds(issued.equals(now) ? ttl : ttl + 1);
    String sessionId = Session.newId(clock.millis());
    String token =
        codec.sign(new SessionClaims(sessionId, caller.tenantId(), request.externalUserId(), request.audience(), issued, expires));
    Session session =
        new Session(
            sessionId, caller.tenantId(), caller.apiKeyId(), request.externalUserId(), request.externalGroupId(),
            request.audience(), admitted.scopes(), admitted.origin(), request.context(), SecretHash.of(token), issued, expires, maxUses,
            maxUses, null);
    return sessions.insertSession(session).thenApply(ignored -> new Minted(token, session, ttl, rate));
  }

  /**
   * Consumes one use of a token.
   *
   * @param origin the origin the redeemer presents; must equal the token's when it is bound
   * @param audience when not empty, must equal the token's audience
   * @return the session with {@code usesRemaining} after this use
   */
  public Session redeem(Caller caller, String token, String origin, String audience) {
    return Completions.join(redeemAsync(caller, token, origin, audience));
  }

  /**
   * {@link #redeem} without making the calling thread wait for the store: the future completes
   * once the session is found, checked, and its use consumed and committed (or fails with the
   * refusal).
   */
  public CompletableFuture<Session> redeemAsync(Caller caller, String token, String origin, String audience) {
    Optional<String> id = SessionTokenCodec.peekSessionId(token);
    if (id.isEmpty()) {
      return CompletableFuture.failedFuture(notFound(caller, token));
    }
    // The tenant, the instant and the quota are settled here, on the caller's thread: the check
    // may run on the store's writer, and the rest on the thread that acknowledges its commits,
    // neither of which may wait for a read of the tenant when its cache has expired.
    Optional<Tenant> tenant = tenants.find(caller.tenantId());
    Instant now = clock.instant();
    QuotaCharge charge = tenant.map(t -> quotas.chargeFor(t, now)).orElse(null);
    Presented presented = new Presented(origin, audience);
    SessionStore.RedeemCheck check = session -> checkRedeemable(caller, session, tenant, presented, now);
    return sessions
        .redeemSessionUse(id.get(), SecretHash.of(token), check, now, charge)
        .thenApply(redemption -> redeemed(redemption, caller, token, tenant, charge, now));
  }

  /**
   * Throws the reason the caller may not take a use of this session. Quick and without effects
   * (no log): the store may run it on its writer.
   */
  private void checkRedeemable(Caller caller, Session session, Optional<Tenant> tenant, Presented presented, Instant now) {
    checkOwnTenant(caller, session);
    existing(tenant);
    checkUsable(session, tenant, TenantPolicy.Operation.REDEEM, now, presented);
  }

  /**
   * What a redeemer presents of a token's binding: the origin it comes from (null: none), the
   * audience it expects (empty: any). An introspection presents nothing (a null {@code
   * Presented}) and checks no binding.
   */
  private record Presented(String origin, String audience) {}

  /**
   * Throws the reason a session may not be used, in the one order Redeem, Introspect and verify
   * share, so that one token gets one reason whichever of them asks: the tenant's status (a
   * suspended or cancelled tenant's outstanding tokens stop working at once), the token's state,
   * the binding to what the redeemer presents, then the tenant's modules. Quick and without
   * effects: Redeem's runs on the store's writer.
   */
  private void checkUsable(
      Session session, Optional<Tenant> tenant, TenantPolicy.Operation operation, Instant now, Presented presented) {
    if (tenant.isPresent()) {
      TenantPolicy.check(tenant.get(), operation);
    }
    // Refusals the stored row already shows. Redeem's atomic consume checks the minting key's
    // revocation itself, so only an inspection reads the key here.
    ErrorReason state = stateOf(session, now, operation != TenantPolicy.Operation.REDEEM);
    if (state != null) {
      throw stateRefusal(state);
    }
    if (presented != null) {
      checkBinding(session, presented.origin(), presented.audience());
    }
    if (tenant.isPresent() && !TenantPolicy.allowsAudience(tenant.get(), session.audience())) {
      throw moduleDisabled();
    }
  }

  /** The redeemed session, or the refusal of what the store found or did. */
  private Session redeemed(
      Redemption redemption, Caller caller, String token, Optional<Tenant> tenant, QuotaCharge charge, Instant now) {
    Session session = redemption.session();
    if (session == null) {
      throw notFound(caller, token);
    }
    if (redemption.refusal() != null) {
      throw logged(redemption.refusal(), session, caller);
    }
    ConsumeResult result = redemption.consumed();
    switch (result.outcome()) {
      case CONSUMED:
        return session.withUsesRemaining(result.usesRemaining());
      case QUOTA_EXCEEDED:
        quotas.exhausted(charge);
        throw QuotaMeter.exceeded(existing(tenant), now);
      case ALREADY_USED:
        throw logged(stateRefusal(ErrorReason.TOKEN_ALREADY_USED), session, caller);
      case EXPIRED:
        throw expired();
      case REVOKED:
        throw revoked();
      default:
        throw invalid();
    }
  }

  /** A refusal, logged when it is a replay: a replayed single-use token is worth a log line (never the token). */
  private static RuntimeException logged(RuntimeException refusal, Session session, Caller caller) {
    if (refusal instanceof AuthorityException e && e.reason() == ErrorReason.TOKEN_ALREADY_USED) {
      log.info("redeem refused: session {} already used (tenant {}, redeemer {})", session.id(), session.tenantId(), caller.apiKeyId());
    }
    return refusal;
  }

  /** The refusal for a reason of {@link #stateOf}. */
  private static AuthorityException stateRefusal(ErrorReason reason) {
    return switch (reason) {
      case TOKEN_ALREADY_USED -> AuthorityException.of(ErrorReason.TOKEN_ALREADY_USED, "the session token was already used");
      case TOKEN_EXPIRED -> expired();
      case TOKEN_REVOKED -> revoked();
      default -> invalid();
    };
  }

  /** The redeemer's view of the token must match what it is bound to: its audience and its origin. */
  private static void checkBinding(Session session, String origin, String audience) {
    if (!audience.isEmpty() && !audience.equals(session.audience())) {
      throw AuthorityException.of(ErrorReason.AUDIENCE_MISMATCH, "the token was minted for another audience");
    }
    if (!Origins.matchesBinding(session.origin(), origin)) {
      throw AuthorityException.of(ErrorReason.ORIGIN_NOT_ALLOWED, "the token is bound to another origin");
    }
  }

  private static AuthorityException moduleDisabled() {
    return AuthorityException.of(ErrorReason.MODULE_NOT_ENABLED, "the token's audience is no longer an enabled module of this tenant");
  }

  /** Checks a token without consuming it; a bad token is an inactive result, not an error. */
  public Introspection introspect(Caller caller, String token) {
    try {
      return new Introspection(true, null, inspect(caller, token, null));
    } catch (AuthorityException e) {
      return new Introspection(false, e.reason(), null);
    }
  }

  /**
   * Checks a token without consuming it, as {@link #introspect} does, and also what the
   * redeemer presents, as {@link #redeem} does: a token bound to an origin or an audience
   * passes only for the same one. For a session used on every request of its life (the
   * browser channel behind a sidecar).
   *
   * @return the session, its uses untouched
   * @throws AuthorityException with the reason the token is not active, or does not match
   */
  public Session verify(Caller caller, String token, String origin, String audience) {
    return inspect(caller, token, new Presented(origin, audience));
  }

  /** The checks of an introspection ({@link #checkUsable}); throws the reason a token is inactive. */
  private Session inspect(Caller caller, String token, Presented presented) {
    Session session = lookUp(caller, token);
    checkUsable(session, tenants.find(caller.tenantId()), TenantPolicy.Operation.INTROSPECT, clock.instant(), presented);
    return session;
  }

  /** Revokes a session given by id; NOT_FOUND when it is not the caller's tenant's. */
  public Instant revokeById(Caller caller, String sessionId) {
    Optional<Session> session = sessions.findSession(sessionId).filter(s -> caller.canSee(s.tenantId()));
    if (session.isEmpty()) {
      throw AuthorityException.of(ErrorReason.NOT_FOUND, "no session with this id");
    }
    return revoke(caller, session.get());
  }

  /** Revokes the session of a token; NOT_FOUND when it is unknown or not the caller's tenant's. */
  public Instant revokeByToken(Caller caller, String token) {
    Optional<Session> session = findByToken(token).filter(s -> caller.canSee(s.tenantId()));
    if (session.isEmpty()) {
      throw AuthorityException.of(ErrorReason.NOT_FOUND, "no session for this token");
    }
    return revoke(caller, session.get());
  }

  private Instant revoke(Caller caller, Session session) {
    Instant at =
        sessions.revokeSession(session.id(), clock.instant())
            .orElseThrow(() -> AuthorityException.of(ErrorReason.NOT_FOUND, "no session with this id"));
    log.info("session revoked id={} tenant={} by={}", session.id(), session.tenantId(), caller.apiKeyId());
    return at;
  }

  /**
   * Deletes sessions that expired more than the leeway ago, then rate-limit buckets that are
   * full again, a batch at a time so that no caller waits behind a long delete. The sessions
   * are purged even when the buckets' purge fails (its failure is thrown afterwards).
   *
   * @return how many sessions were deleted
   */
  public int purgeExpired() {
    int sessionsPurged = purgeExpiredSessions();
    rateLimiter.purge(clock.instant(), PURGE_BATCH);
    return sessionsPurged;
  }

  private int purgeExpiredSessions() {
    Instant before = clock.instant().minus(leeway);
    int total = 0;
    // A stop interrupts the purge: it ends before its next batch (the rest waits for the next
    // run), rather than deleting through the drain until the store closes under it.
    while (!Thread.currentThread().isInterrupted()) {
      int deleted = sessions.purgeExpiredSessions(before, PURGE_BATCH);
      total += deleted;
      if (deleted < PURGE_BATCH) {
        break;
      }
    }
    return total;
  }

  private Session lookUp(Caller caller, String token) {
    return lookedUp(caller, token, findByToken(token));
  }

  /** The caller's session of the token, given what the store found for it; throws when none. */
  private Session lookedUp(Caller caller, String token, Optional<Session> found) {
    if (found.isEmpty()) {
      throw notFound(caller, token);
    }
    Session session = found.get();
    checkOwnTenant(caller, session);
    return session;
  }

  /** Another tenant's token is treated exactly as an unknown one. */
  private static void checkOwnTenant(Caller caller, Session session) {
    if (!session.tenantId().equals(caller.tenantId())) {
      throw invalid();
    }
  }

  /**
   * The refusal of a token whose session is not stored: a forgery, or a genuine token whose
   * session was purged after it expired. Only the latter, and only for the caller's own tenant,
   * deserves the precise reason: full verification finds TOKEN_EXPIRED for it and TOKEN_INVALID
   * for anything else.
   */
  private AuthorityException notFound(Caller caller, String token) {
    boolean ownTenant =
        SessionTokenCodec.peekClaim(token, SessionTokens.TENANT_CLAIM).map(caller.tenantId()::equals).orElse(false);
    if (ownTenant) {
      try {
        codec.verify(token);
      } catch (AuthorityException e) {
        return e;
      }
    }
    return invalid();
  }

  private Optional<Session> findByToken(String token) {
    Optional<String> id = SessionTokenCodec.peekSessionId(token);
    return id.isEmpty() ? Optional.empty() : Completions.join(sessions.findSessionForToken(id.get(), SecretHash.of(token)));
  }

  /**
   * Why a session cannot be redeemed now, or null when it can.
   *
   * @param checkMinter also look up whether the key that minted it was revoked
   */
  private ErrorReason stateOf(Session session, Instant now, boolean checkMinter) {
    if (session.revokeTime() != null) {
      return ErrorReason.TOKEN_REVOKED;
    }
    if (session.isExpiredAt(now)) {
      return ErrorReason.TOKEN_EXPIRED;
    }
    // Used up before the minting key's revocation, as Redeem finds it (its consume checks the key).
    if (session.usesRemaining() <= 0) {
      return ErrorReason.TOKEN_ALREADY_USED;
    }
    if (checkMinter) {
      Optional<ApiKey> minter = keys.findApiKey(session.apiKeyId());
      if (minter.isEmpty() || minter.get().isRevoked()) {
        return ErrorReason.TOKEN_REVOKED;
      }
    }
    return null;
  }

  private Tenant tenantOf(Caller caller) {
    return existing(tenants.find(caller.tenantId()));
  }

  private static Tenant existing(Optional<Tenant> tenant) {
    return tenant.orElseThrow(() -> AuthorityException.of(ErrorReason.TENANT_INACTIVE, "the tenant of this API key does not exist"));
  }

  private static AuthorityException invalid() {
    return AuthorityException.of(ErrorReason.TOKEN_INVALID, "the session token is not valid");
  }

  private static AuthorityException expired() {
    return AuthorityException.of(ErrorReason.TOKEN_EXPIRED, "the session token has expired");
  }

  private static AuthorityException revoked() {
    return AuthorityException.of(ErrorReason.TOKEN_REVOKED, "the session token was revoked");
  }
}
