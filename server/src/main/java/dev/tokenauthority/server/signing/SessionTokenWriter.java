package dev.tokenauthority.server.signing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.tokenauthority.contract.SessionTokens;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Writes a session token as a compact JWS (RFC 7515) signed with Ed25519 (RFC 8037). This is
 * the mint hot path, so it avoids a general JWT builder's costs: the header segment is encoded
 * once per signing key, the claims are written by Jackson's streaming generator (which does the
 * JSON escaping), and the signature comes from {@link Ed25519Signer}, the key already decoded.
 * Tokens are parsed and verified by jjwt only ({@link SessionTokenCodec#verify}), and
 * the tests verify every minted token with it.
 *
 * <p>Text is written as raw UTF-8: characters outside the Basic Multilingual Plane (emoji) are
 * written as their four bytes, not as two 6-character escapes, which would triple
 * their share of the token's length.
 */
final class SessionTokenWriter {
  private static final JsonFactory JSON =
      JsonFactory.builder().enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();
  /** 64 bytes in unpadded base64url. */
  private static final int ENCODED_SIGNATURE_LENGTH = 86;

  private SessionTokenWriter() {}

  /**
   * The encoded protected header for a key, {@code {"alg":"EdDSA","typ":"session+jwt","kid":...}}
   * in base64url as ASCII bytes, ready to copy into each token.
   */
  static byte[] encodedHeader(String kid) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(96);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("alg", "EdDSA");
      g.writeStringField("typ", SessionTokens.TYPE);
      g.writeStringField("kid", kid);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return BASE64URL.encode(out.toByteArray());
  }

  /**
   * Signs the claims with the active key and returns the compact serialisation. The token is
   * assembled as ASCII bytes in one array (header, payload, then the signature over the two),
   * so that nothing is encoded twice.
   */
  static String write(SigningKeys.ActiveKey key, String issuer, SessionClaims claims) {
    byte[] payload = BASE64URL.encode(claimsJson(issuer, claims));
    byte[] header = key.encodedHeader();
    int signed = header.length + 1 + payload.length;
    byte[] token = new byte[signed + 1 + ENCODED_SIGNATURE_LENGTH];
    System.arraycopy(header, 0, token, 0, header.length);
    token[header.length] = '.';
    System.arraycopy(payload, 0, token, header.length + 1, payload.length);
    byte[] signature = new byte[Ed25519Signer.SIGNATURE_LENGTH];
    key.signer().sign(token, 0, signed, signature);
    token[signed] = '.';
    System.arraycopy(BASE64URL.encode(signature), 0, token, signed + 1, ENCODED_SIGNATURE_LENGTH);
    // Every byte is base64url or '.', so Latin-1 decoding is a plain copy into a compact String.
    return new String(token, StandardCharsets.ISO_8859_1);
  }

  private static byte[] claimsJson(String issuer, SessionClaims claims) {
    ByteArrayOutputStream payload = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(payload)) {
      g.writeStartObject();
      g.writeStringField("iss", issuer);
      g.writeStringField("sub", claims.subject());
      if (!claims.audience().isEmpty()) {
        g.writeStringField("aud", claims.audience());
      }
      g.writeNumberField("iat", claims.issueTime().getEpochSecond());
      g.writeNumberField("nbf", claims.issueTime().getEpochSecond());
      g.writeNumberField("exp", claims.expireTime().getEpochSecond());
      g.writeStringField("jti", claims.sessionId());
      g.writeStringField(SessionTokens.TENANT_CLAIM, claims.tenantId());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return payload.toByteArray();
  }
}
