package dev.tokenauthority.server.secret;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * Random identifiers and secret bodies in base62 (letters and digits only, so they survive
 * double-clicks, URLs and logs unharmed). Each thread has its own DRBG (NIST SP 800-90A,
 * seeded by the operating system): the default NativePRNG serialises every thread on one lock
 * and a read of /dev/urandom.
 */
public final class RandomStrings {
  private static final int ID_CHARS = 22;
  private static final int TIME_CHARS = 8;
  private static final int TIME_ORDERED_RANDOM_CHARS = 16;
  static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(RandomStrings::newDrbg);

  private static SecureRandom newDrbg() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (java.security.NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }

  private RandomStrings() {}

  /** {@code length} base62 characters, each uniform: log2(62) = 5.95 bits apiece. */
  public static String base62(int length) {
    SecureRandom random = RANDOM.get();
    char[] out = new char[length];
    // One draw of random bytes, more than enough for rejection sampling: a byte below 248
    // (4 x 62) maps to a uniform digit; the rest (3%) are skipped.
    byte[] bytes = new byte[length + length / 4 + 8];
    int filled = 0;
    while (filled < length) {
      random.nextBytes(bytes);
      for (int i = 0; i < bytes.length && filled < length; i++) {
        int b = bytes[i] & 0xff;
        if (b < 248) {
          out[filled++] = BASE62.charAt(b % 62);
        }
      }
    }
    return new String(out);
  }

  /** An id such as {@code key_4f0Xq...}: the prefix, then 22 base62 characters (131 random bits). */
  public static String id(String prefix) {
    return prefix + base62(ID_CHARS);
  }

  /** The shape of every {@link #id} with this prefix, and of nothing else. */
  public static Pattern idShape(String prefix) {
    return Pattern.compile(Pattern.quote(prefix) + "[0-9A-Za-z]{" + ID_CHARS + "}");
  }

  /**
   * An id that sorts by creation time: the prefix, 8 base62 digits of epoch milliseconds, then
   * 16 random base62 characters (95 bits). Stores keyed by it append at the end of their index
   * instead of writing a page at a random place per insert.
   */
  public static String timeOrderedId(String prefix, long epochMillis) {
    return prefix + base62Fixed(epochMillis, TIME_CHARS) + base62(TIME_ORDERED_RANDOM_CHARS);
  }

  /** The shape of every {@link #timeOrderedId} with this prefix, and of nothing else. */
  public static Pattern timeOrderedIdShape(String prefix) {
    return Pattern.compile(Pattern.quote(prefix) + "[0-9A-Za-z]{" + (TIME_CHARS + TIME_ORDERED_RANDOM_CHARS) + "}");
  }

  /** Encodes a non-negative number as exactly {@code width} base62 digits (zero-padded). */
  public static String base62Fixed(long value, int width) {
    char[] out = new char[width];
    long v = value;
    for (int i = width - 1; i >= 0; i--) {
      out[i] = BASE62.charAt((int) (v % 62));
      v /= 62;
    }
    return new String(out);
  }

  /** True when every character is a base62 digit. */
  public static boolean isBase62(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return false;
      }
    }
    return true;
  }
}
