package dev.tokenauthority.server.secret;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The SHA-256 digest of a secret (an API key secret or a session token): what the stores keep
 * instead of the secret itself. A fast hash is enough because every secret it is used for
 * carries at least 192 random bits (GitHub does the same for its tokens). Equality is
 * constant-time; {@link #toString()} never shows the bytes.
 */
public final class SecretHash {
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is missing from this JDK", e);
            }
          });

  private final byte[] digest;
  private final int hashCode;

  private SecretHash(byte[] digest) {
    this.digest = digest;
    // The first bytes of a SHA-256 digest are uniformly distributed: a fine hash code.
    this.hashCode =
        (digest[0] & 0xff) << 24 | (digest[1] & 0xff) << 16 | (digest[2] & 0xff) << 8 | digest[3] & 0xff;
  }

  /** Hashes a secret given as text (UTF-8). */
  public static SecretHash of(String secret) {
    return of(secret.getBytes(StandardCharsets.UTF_8));
  }

  /** Hashes a secret given as bytes. */
  public static SecretHash of(byte[] secret) {
    MessageDigest sha = SHA256.get();
    sha.reset();
    return new SecretHash(sha.digest(secret));
  }

  /** Wraps a digest read back from a store. */
  public static SecretHash fromDigest(byte[] digest) {
    if (digest.length != 32) {
      throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, not " + digest.length);
    }
    return new SecretHash(digest.clone());
  }

  /** A copy of the 32 digest bytes, for a store to persist. */
  public byte[] digest() {
    return digest.clone();
  }

  /** The digest as four big-endian longs (index 0-3), for a store that keeps it in fields. */
  public long word(int index) {
    long w = 0;
    for (int i = index * 8; i < index * 8 + 8; i++) {
      w = (w << 8) | (digest[i] & 0xff);
    }
    return w;
  }

  /** Whether the digest equals the four words, in constant time. */
  public boolean matches(long w0, long w1, long w2, long w3) {
    return ((word(0) ^ w0) | (word(1) ^ w1) | (word(2) ^ w2) | (word(3) ^ w3)) == 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecretHash other && MessageDigest.isEqual(digest, other.digest);
  }

  @Override
  public int hashCode() {
    return hashCode;
  }

  @Override
  public String toString() {
    return "SecretHash[redacted]";
  }
}
