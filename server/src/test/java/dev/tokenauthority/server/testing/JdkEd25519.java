package dev.tokenauthority.server.testing;

import dev.tokenauthority.v1.Jwk;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The JDK's own Ed25519, neither of the two the server signs with, as an offline verifier uses
 * it: a public key from a JWK's {@code x} (or 32 raw bytes), and a token's or a message's
 * signature checked against it.
 */
public final class JdkEd25519 {
  /** The X.509 SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410), before its 32 bytes. */
  private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private JdkEd25519() {}

  /** The public key a JWK publishes in {@code x}. */
  public static PublicKey publicKey(Jwk jwk) throws GeneralSecurityException {
    return publicKey(Base64.getUrlDecoder().decode(jwk.getX()));
  }

  /** The public key of 32 raw bytes. */
  public static PublicKey publicKey(byte[] raw) throws GeneralSecurityException {
    byte[] spki = new byte[SPKI_PREFIX.length + raw.length];
    System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
    System.arraycopy(raw, 0, spki, SPKI_PREFIX.length, raw.length);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
  }

  /** Whether a compact JWS's signature over {@code header.payload} verifies with {@code key}. */
  public static boolean verifies(String token, PublicKey key) throws GeneralSecurityException {
    int lastDot = token.lastIndexOf('.');
    byte[] signed = token.substring(0, lastDot).getBytes(StandardCharsets.US_ASCII);
    return verifies(key, signed, 0, signed.length, Base64.getUrlDecoder().decode(token.substring(lastDot + 1)));
  }

  /** Whether {@code signature} is {@code key}'s over {@code length} bytes of {@code buffer} at {@code offset}. */
  public static boolean verifies(PublicKey key, byte[] buffer, int offset, int length, byte[] signature)
      throws GeneralSecurityException {
    Signature jdk = Signature.getInstance("Ed25519");
    jdk.initVerify(key);
    jdk.update(buffer, offset, length);
    return jdk.verify(signature);
  }
}
