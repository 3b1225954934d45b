package dev.tokenauthority.server.signing;

import java.time.Instant;

/**
 * A stored Ed25519 signing key: PKCS#8 private key, X.509 public key. The newest key signs;
 * older ones only verify until the tokens they signed have expired.
 */
public record SigningKey(String kid, byte[] privateKeyPkcs8, byte[] publicKeyX509, Instant createTime) {
  /** Whether the private half is still stored: only the active key needs it. */
  public boolean hasPrivateKey() {
    return privateKeyPkcs8.length > 0;
  }

  @Override
  public String toString() {
    return "SigningKey[kid=" + kid + ", createTime=" + createTime + "]";
  }
}
