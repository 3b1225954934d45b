package dev.tokenauthority.server.signing;

import dev.tokenauthority.contract.SessionTokens;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.ExpiredJwtException;
import io.jsonwebtoken.Jws;
import io.jsonwebtoken.JwsHeader;
import io.jsonwebtoken.JwtException;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.Locator;
import io.jsonwebtoken.ProtectedHeader;
import io.jsonwebtoken.Header;
import java.security.Key;
import java.security.Provider;
import java.time.Clock;
import java.time.Duration;
import java.io.IOException;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import java.util.Set;

/**
 * Signs and verifies session tokens: compact JWS, EdDSA over Ed25519, header {@code kid} and
 * {@code typ: session+jwt}; claims {@code iss sub aud iat nbf exp jti tid}. Callers never pick
 * the algorithm or the key: signing uses the active key, verification accepts EdDSA only, a
 * known {@code kid}, the expected {@code typ} and {@code iss}, and the validity period with a
 * small leeway.
 */
public final class SessionTokenCodec {

  private static final JsonFactory JSON = new JsonFactory();

  private final SigningKeys keys;
  private final String issuer;
  private final JwtParser parser;

  public SessionTokenCodec(SigningKeys keys, Provider provider, String issuer, Clock clock, Duration leeway) {
    this.keys = keys;
    this.issuer = issuer;
    Locator<Key> locator = this::verificationKeyFor;
    this.parser =
        Jwts.parser()
            .provider(provider)
            .keyLocator(locator)
            .requireIssuer(issuer)
            .clock(() -> Date.from(clock.instant()))
            .clockSkewSeconds(leeway.toSeconds())
            .build();
  }

  public String issuer() {
    return issuer;
  }

  /**
   * Signs the claims with the active key.
   *
   * @throws AuthorityException INVALID_REQUEST on {@code external_user_id} (the subject, the one
   *     claim whose length the caller chooses freely) when the token would be longer than
   *     {@link SessionTokens#MAX_LENGTH}: a token {@link #verify} refuses is never handed out
   */
  public String sign(SessionClaims claims) {
    String token;
    try {
      token = SessionTokenWriter.write(keys.active(), issuer, claims);
    } catch (RuntimeException e) {
      throw AuthorityException.of(ErrorReason.TOKEN_GENERATION_FAILED, "the session token could not be signed", e);
    }
    if (token.length() > SessionTokens.MAX_LENGTH) {
      throw AuthorityException.invalidField(
          "external_user_id", "makes the session token longer than " + SessionTokens.MAX_LENGTH + " characters; use a shorter id");
    }
    return token;
  }

  /**
   * The {@code jti} (session id) of a token, read WITHOUT verifying anything. It is only a
   * lookup key: the caller must then match the token against what is stored for that id (the
   * store compares the token's hash), which is what authenticates it.
   *
   * @return empty unless the token is a three-part compact JWS whose payload is a JSON object
   *     with a string {@code jti}
   */
  public static Optional<String> peekSessionId(String token) {
    return peekClaim(token, "jti");
  }

  /** A top-level string claim of a token, read WITHOUT verifying anything (see {@link #peekSessionId}). */
  public static Optional<String> peekClaim(String token, String claim) {
    return peekMember(token, false, claim);
  }

  /**
   * Whether a string is shaped as this authority's session token: a compact JWS whose protected
   * header says {@code typ: session+jwt}. Nothing is verified; it tells a session token apart
   * from another bearer credential (an OIDC access token, say) that a request may carry.
   */
  public static boolean isSessionTokenShaped(String token) {
    return peekMember(token, true, "typ").filter(SessionTokens.TYPE::equals).isPresent();
  }

  /** A top-level string member of a token's header or payload, read without verifying anything. */
  private static Optional<String> peekMember(String token, boolean header, String member) {
    if (token.isEmpty() || token.length() > SessionTokens.MAX_LENGTH) {
      return Optional.empty();
    }
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0 || token.indexOf('.', second + 1) >= 0) {
      return Optional.empty();
    }
    try {
      byte[] json = Base64.getUrlDecoder().decode(header ? token.substring(0, first) : token.substring(first + 1, second));
      try (JsonParser p = JSON.createParser(json)) {
        if (p.nextToken() != JsonToken.START_OBJECT) {
          return Optional.empty();
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          JsonToken value = p.nextToken();
          if (member.equals(name)) {
            return value == JsonToken.VALUE_STRING ? Optional.of(p.getText()) : Optional.empty();
          }
          p.skipChildren();
        }
        return Optional.empty();
      }
    } catch (IllegalArgumentException | IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Verifies a token completely, signature included.
   *
   * @throws AuthorityException TOKEN_EXPIRED for a genuine token past its expiry, TOKEN_INVALID
   *     for anything else (one before its start included)
   */
  public VerifiedSessionToken verify(String token) {
    if (token.isEmpty() || token.length() > SessionTokens.MAX_LENGTH || !SessionTokens.canonicalSignature(token)) {
      throw invalid();
    }
    try {
      Jws<Claims> jws = parser.parseSignedClaims(token);
      JwsHeader header = jws.getHeader();
      if (!"EdDSA".equals(header.getAlgorithm()) || !SessionTokens.TYPE.equals(header.getType())) {
        throw invalid();
      }
      Claims c = jws.getPayload();
      String tenant = c.get(SessionTokens.TENANT_CLAIM, String.class);
      Set<String> aud = c.getAudience();
      if (c.getId() == null || c.getSubject() == null || tenant == null || c.getExpiration() == null
          || c.getIssuedAt() == null) {
        throw invalid();
      }
      String audience = aud == null || aud.isEmpty() ? "" : aud.iterator().next();
      return new VerifiedSessionToken(
          header.getKeyId(),
          new SessionClaims(
              c.getId(), tenant, c.getSubject(), audience, c.getIssuedAt().toInstant(), c.getExpiration().toInstant()));
    } catch (ExpiredJwtException e) {
      throw AuthorityException.of(ErrorReason.TOKEN_EXPIRED, "the session token has expired");
    } catch (io.jsonwebtoken.PrematureJwtException e) {
      throw AuthorityException.of(ErrorReason.TOKEN_INVALID, "the session token is not valid yet");
    } catch (JwtException | IllegalArgumentException | ClassCastException e) {
      throw invalid();
    }
  }

  private Key verificationKeyFor(Header header) {
    if (!(header instanceof ProtectedHeader protectedHeader)) {
      throw new io.jsonwebtoken.security.UnsupportedKeyException("unsigned tokens are refused");
    }
    if (!"EdDSA".equals(protectedHeader.getAlgorithm())) {
      throw new io.jsonwebtoken.security.UnsupportedKeyException("only EdDSA is accepted");
    }
    String kid = protectedHeader.getKeyId();
    SigningKeys.VerificationKey key = kid == null ? null : keys.verificationKey(kid);
    if (key == null) {
      throw new io.jsonwebtoken.security.UnsupportedKeyException("unknown kid");
    }
    return key.publicKey();
  }

  private static AuthorityException invalid() {
    return AuthorityException.of(ErrorReason.TOKEN_INVALID, "the session token is not valid");
  }
}
