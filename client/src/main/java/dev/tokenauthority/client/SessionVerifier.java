package dev.tokenauthority.client;

import dev.tokenauthority.contract.SessionTokens;
import io.grpc.Status;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.ExpiredJwtException;
import io.jsonwebtoken.Header;
import io.jsonwebtoken.IncorrectClaimException;
import io.jsonwebtoken.Jws;
import io.jsonwebtoken.JwsHeader;
import io.jsonwebtoken.JwtException;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.Locator;
import io.jsonwebtoken.MissingClaimException;
import io.jsonwebtoken.PrematureJwtException;
import io.jsonwebtoken.ProtectedHeader;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies session tokens offline, for a sidecar or service that needs to know who a token
 * stands for but not to consume a use of it (use {@link TokenAuthorityClient#redeem} for
 * that). It applies the server's checks: EdDSA only (no {@code none}, no HMAC), {@code typ}
 * {@code session+jwt}, the issuer, {@code exp} and {@code nbf} with a leeway, a known
 * {@code kid}, the tenant, and the audience when one is expected. Every tenant's tokens are
 * signed by the same keys, so the builder must be told whose tokens to accept
 * ({@link Builder#tenant}), or told to accept any tenant's ({@link Builder#anyTenant}) by a
 * caller that checks {@link VerifiedSession#tenantId} itself. The JWK Set is fetched on first use and
 * cached; an unknown {@code kid} (a rotation) fetches it again, at most once per refresh
 * interval, so forged kids cannot flood the authority. Thread-safe.
 *
 * <p>A token it refuses throws {@link TokenAuthorityException} with the reason the server
 * would give: TOKEN_INVALID, TOKEN_EXPIRED or AUDIENCE_MISMATCH.
 */
public final class SessionVerifier {
  private static final Logger log = LoggerFactory.getLogger(SessionVerifier.class);
  /** The issuer a server uses unless started with another {@code --issuer}. */
  public static final String DEFAULT_ISSUER = SessionTokens.DEFAULT_ISSUER;
  /** The JWS header's {@code typ} of a session token. */
  public static final String TYPE = SessionTokens.TYPE;
  private static final Duration MAX_LEEWAY = Duration.ofMinutes(10);
  /** The DER prefix of an X.509 SubjectPublicKeyInfo for a raw Ed25519 key (RFC 8410). */
  private static final byte[] ED25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final Supplier<JsonWebKeySet> source;
  private final String issuer;
  private final String audience;
  /** The tenant whose tokens are accepted; null for any tenant's. */
  private final String tenant;
  private final Clock clock;
  private final Duration refreshInterval;
  private final Duration maxKeyAge;
  private final JwtParser parser;
  /** Held while fetching; callers that have a key to use never wait for it. */
  private final ReentrantLock fetchLock = new ReentrantLock();
  /** The cached keys; null until the first fetch. Replaced whole, never changed. */
  private volatile KeyRing ring;
  /** When a fetch was last tried, successful or not; written holding fetchLock. */
  private volatile Instant lastFetch;
  /** Why the last fetch failed while there were no keys yet; guarded by fetchLock. */
  private TokenAuthorityException lastFailure;

  private record KeyRing(Map<String, PublicKey> byKid, Instant fetchedAt) {}

  private SessionVerifier(Builder b) {
    this.source = b.source;
    this.issuer = b.issuer;
    this.audience = b.audience;
    this.tenant = b.tenant;
    this.clock = b.clock;
    this.refreshInterval = b.refreshInterval;
    this.maxKeyAge = b.maxKeyAge;
    Locator<Key> locator = this::keyFor;
    this.parser =
        Jwts.parser()
            .keyLocator(locator)
            .requireIssuer(issuer)
            .clock(() -> Date.from(clock.instant()))
            .clockSkewSeconds(b.leeway.toSeconds())
            .build();
  }

  /** A verifier whose keys come from the authority's GetJwks through {@code client}. */
  public static Builder builder(TokenAuthorityClient client) {
    Objects.requireNonNull(client, "client");
    return new Builder(client::getJwks);
  }

  /** A verifier whose keys come from {@code source}, e.g. a JWK Set loaded from a file or cache. */
  public static Builder builder(Supplier<JsonWebKeySet> source) {
    return new Builder(Objects.requireNonNull(source, "source"));
  }

  /**
   * Verifies a token and returns its claims.
   *
   * @throws TokenAuthorityException TOKEN_EXPIRED for a genuine token past its expiry and leeway,
   *     AUDIENCE_MISMATCH when it is for another audience than the expected one, TOKEN_INVALID for
   *     another tenant's token (as the server answers it) and anything else; or the failure of
   *     fetching the keys when none could ever be fetched
   */
  public VerifiedSession verify(String token) {
    if (token == null || token.isEmpty() || token.length() > SessionTokens.MAX_LENGTH) {
      throw invalid("not a session token");
    }
    if (!SessionTokens.canonicalSignature(token)) {
      throw invalid("bad signature or format");
    }
    Jws<Claims> jws;
    try {
      jws = parser.parseSignedClaims(token);
    } catch (ExpiredJwtException e) {
      // Signed by a known key, but another tenant's token is not valid here, expired or not.
      requireTenant(e.getClaims() == null ? null : e.getClaims().get(SessionTokens.TENANT_CLAIM));
      throw refused(Status.Code.UNAUTHENTICATED, ErrorReason.TOKEN_EXPIRED, "the session token has expired");
    } catch (PrematureJwtException e) {
      throw invalid("not valid yet");
    } catch (IncorrectClaimException | MissingClaimException e) {
      throw invalid("wrong issuer");
    } catch (UnknownKeyException e) {
      throw invalid(e.getMessage());
    } catch (JwtException | IllegalArgumentException | ClassCastException e) {
      throw invalid("bad signature or format");
    }
    JwsHeader header = jws.getHeader();
    if (!"EdDSA".equals(header.getAlgorithm())) {
      throw invalid("algorithm is not EdDSA");
    }
    if (!TYPE.equals(header.getType())) {
      throw invalid("typ is not " + TYPE);
    }
    Claims c = jws.getPayload();
    String tokenTenant;
    Set<String> aud;
    try {
      tokenTenant = c.get(SessionTokens.TENANT_CLAIM, String.class);
      aud = c.getAudience();
    } catch (JwtException | ClassCastException e) {
      throw invalid("malformed claims");
    }
    if (c.getId() == null || c.getSubject() == null || tokenTenant == null || c.getExpiration() == null
        || c.getIssuedAt() == null) {
      throw invalid("a required claim is missing");
    }
    requireTenant(tokenTenant);
    String tokenAudience = aud == null || aud.isEmpty() ? "" : aud.iterator().next();
    if (audience != null && (aud == null || !aud.contains(audience))) {
      throw refused(Status.Code.PERMISSION_DENIED, ErrorReason.AUDIENCE_MISMATCH, "the session token is for another audience");
    }
    return new VerifiedSession(
        header.getKeyId(), c.getId(), tokenTenant, c.getSubject(), tokenAudience,
        c.getIssuedAt().toInstant(), c.getExpiration().toInstant());
  }

  /** Refuses a token of another tenant than the one this verifier accepts, if it accepts one. */
  private void requireTenant(Object tokenTenant) {
    if (tenant != null && !tenant.equals(tokenTenant)) {
      throw invalid("another tenant's token");
    }
  }

  /** The issuer tokens must carry. */
  public String issuer() {
    return issuer;
  }

  private Key keyFor(Header header) {
    if (!(header instanceof ProtectedHeader protectedHeader)) {
      throw new UnknownKeyException("unsigned tokens are refused");
    }
    if (!"EdDSA".equals(protectedHeader.getAlgorithm())) {
      throw new UnknownKeyException("algorithm is not EdDSA");
    }
    String kid = protectedHeader.getKeyId();
    if (kid == null || kid.isEmpty()) {
      throw new UnknownKeyException("no kid");
    }
    KeyRing current = currentRing();
    PublicKey key = current.byKid().get(kid);
    if (key == null) {
      key = refreshFor(kid, current);
    }
    if (key == null) {
      throw new UnknownKeyException("unknown kid");
    }
    return key;
  }

  /** The cached keys, fetched first if there are none yet or they are older than the maximum age. */
  private KeyRing currentRing() {
    KeyRing current = ring;
    Instant now = clock.instant();
    if (current != null && current.fetchedAt().plus(maxKeyAge).isAfter(now)) {
      return current;
    }
    if (current != null) {
      // Keys past their age still verify: one caller fetches them again while the others go on
      // with them, so a slow or down authority never stalls verifications that need no fetch.
      if (mayFetch(now) && fetchLock.tryLock()) {
        try {
          if (ring == current && mayFetch(now)) {
            try {
              return fetch(now);
            } catch (TokenAuthorityException e) {
              log.warn("refreshing the JWK Set failed ({}); keeping the cached keys", e.getMessage());
            }
          }
          return ring;
        } finally {
          fetchLock.unlock();
        }
      }
      return current;
    }
    fetchLock.lock();
    try {
      current = ring;
      if (current != null) {
        return current;
      }
      // With no keys at all nothing verifies, but a down authority is still asked at most
      // once per refresh interval; meanwhile every call fails as the last fetch did.
      if (lastFailure != null && !mayFetch(now)) {
        throw lastFailure;
      }
      try {
        return fetch(now);
      } catch (TokenAuthorityException e) {
        lastFailure = e;
        throw e;
      }
    } finally {
      fetchLock.unlock();
    }
  }

  /** Fetches the keys again for an unknown kid, unless that was done less than a refresh interval ago. */
  private PublicKey refreshFor(String kid, KeyRing seen) {
    fetchLock.lock();
    try {
      KeyRing current = ring;
      if (current != seen) {
        // Another thread refreshed meanwhile.
        PublicKey key = current.byKid().get(kid);
        if (key != null) {
          return key;
        }
      }
      Instant now = clock.instant();
      if (!mayFetch(now)) {
        return null;
      }
      try {
        return fetch(now).byKid().get(kid);
      } catch (TokenAuthorityException e) {
        log.warn("refreshing the JWK Set for an unknown kid failed ({})", e.getMessage());
        return null;
      }
    } finally {
      fetchLock.unlock();
    }
  }

  private boolean mayFetch(Instant now) {
    return lastFetch == null || !lastFetch.plus(refreshInterval).isAfter(now);
  }

  /** Fetches and decodes the JWK Set; call holding fetchLock. */
  private KeyRing fetch(Instant now) {
    lastFetch = now;
    JsonWebKeySet set = source.get();
    Map<String, PublicKey> byKid = new HashMap<>();
    for (JsonWebKey jwk : set.keys()) {
      PublicKey key = ed25519(jwk);
      if (key != null) {
        byKid.put(jwk.kid(), key);
      }
    }
    KeyRing fetched = new KeyRing(Map.copyOf(byKid), now);
    ring = fetched;
    log.debug("fetched the JWK Set: kids {}", byKid.keySet());
    return fetched;
  }

  /** The public key of an Ed25519 signing JWK; null for any other kind of key, which is ignored. */
  private static PublicKey ed25519(JsonWebKey jwk) {
    if (!"OKP".equals(jwk.kty()) || !"Ed25519".equals(jwk.crv()) || jwk.kid() == null || jwk.kid().isEmpty()
        || !(jwk.alg() == null || jwk.alg().isEmpty() || "EdDSA".equals(jwk.alg()))) {
      return null;
    }
    try {
      byte[] raw = Base64.getUrlDecoder().decode(jwk.x());
      if (raw.length != 32) {
        return null;
      }
      byte[] spki = new byte[ED25519_SPKI_PREFIX.length + raw.length];
      System.arraycopy(ED25519_SPKI_PREFIX, 0, spki, 0, ED25519_SPKI_PREFIX.length);
      System.arraycopy(raw, 0, spki, ED25519_SPKI_PREFIX.length, raw.length);
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      log.warn("ignoring JWK {}: its key does not decode", jwk.kid());
      return null;
    }
  }

  private static TokenAuthorityException invalid(String why) {
    return refused(Status.Code.UNAUTHENTICATED, ErrorReason.TOKEN_INVALID, "the session token is not valid: " + why);
  }

  private static TokenAuthorityException refused(Status.Code code, ErrorReason reason, String message) {
    return new TokenAuthorityException(code, reason.name(), message, Map.of(), null, Map.of(), null);
  }

  /** Thrown by the key locator: the token names no key this verifier trusts. */
  private static final class UnknownKeyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnknownKeyException(String message) {
      super(message, null, false, false);
    }
  }

  /** Options of a {@link SessionVerifier}; each has a default but the key source. */
  public static final class Builder {
    private final Supplier<JsonWebKeySet> source;
    private String issuer = DEFAULT_ISSUER;
    private String audience;
    private String tenant;
    private boolean anyTenant;
    private Duration leeway = Duration.ofSeconds(30);
    private Clock clock = Clock.systemUTC();
    private Duration refreshInterval = Duration.ofSeconds(1);
    private Duration maxKeyAge = Duration.ofHours(1);

    private Builder(Supplier<JsonWebKeySet> source) {
      this.source = source;
    }

    /** The {@code iss} tokens must carry: the server's {@code --issuer} (default {@code token-authority}). */
    public Builder issuer(String issuer) {
      this.issuer = Objects.requireNonNull(issuer, "issuer");
      return this;
    }

    /**
     * Accept only tokens minted by this tenant's keys (the tenant of your API key); another
     * tenant's token is TOKEN_INVALID, as the server answers it.
     */
    public Builder tenant(String tenantId) {
      Objects.requireNonNull(tenantId, "tenantId");
      if (tenantId.isEmpty()) {
        throw new IllegalArgumentException("the tenant id must not be empty");
      }
      this.tenant = tenantId;
      this.anyTenant = false;
      return this;
    }

    /**
     * Accept every tenant's tokens, for a service shared by tenants that reads
     * {@link VerifiedSession#tenantId} and decides itself.
     */
    public Builder anyTenant() {
      this.tenant = null;
      this.anyTenant = true;
      return this;
    }

    /** Refuse tokens not minted for this audience (AUDIENCE_MISMATCH). Unset: any audience. */
    public Builder audience(String audience) {
      this.audience = Objects.requireNonNull(audience, "audience");
      return this;
    }

    /** How far {@code exp} and {@code nbf} may be off the clock, for skew (default 30 s, as the server; at most 10 min). */
    public Builder leeway(Duration leeway) {
      if (leeway.isNegative() || leeway.compareTo(MAX_LEEWAY) > 0) {
        throw new IllegalArgumentException("the leeway must be between 0 and " + MAX_LEEWAY);
      }
      this.leeway = leeway;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The least time between two fetches of the keys for an unknown kid (default 1 s: a replica
     * of the authority uses another's new key within about a second, so a fetch that met one
     * not yet reloaded is worth repeating that soon).
     */
    public Builder refreshInterval(Duration refreshInterval) {
      if (refreshInterval.isNegative()) {
        throw new IllegalArgumentException("the refresh interval must not be negative");
      }
      this.refreshInterval = refreshInterval;
      return this;
    }

    /** Keys older than this are fetched again on the next verification, so removed keys go (default 1 h). */
    public Builder maxKeyAge(Duration maxKeyAge) {
      if (maxKeyAge.isNegative() || maxKeyAge.isZero()) {
        throw new IllegalArgumentException("the maximum key age must be positive");
      }
      this.maxKeyAge = maxKeyAge;
      return this;
    }

    /**
     * @throws IllegalStateException when neither {@link #tenant} nor {@link #anyTenant} was
     *     chosen: all tenants' tokens verify against the same keys, so accepting any of them
     *     must be a decision, not a default
     */
    public SessionVerifier build() {
      if (tenant == null && !anyTenant) {
        throw new IllegalStateException(
            "name the tenant whose tokens to accept, tenant(id), or accept any tenant's with anyTenant() and check"
                + " VerifiedSession.tenantId() yourself: every tenant's tokens are signed by the same keys");
      }
      return new SessionVerifier(this);
    }
  }
}
