package dev.tokenauthority.server.apikey;

import dev.tokenauthority.server.secret.RandomStrings;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The API key secret format, modelled on GitHub's tokens: a deployment prefix ({@code sk_} by
 * default), 43 random base62 characters (256 bits), and a 6-character base62 CRC32 of what
 * precedes it. The checksum lets a typo be refused without a store lookup and lets a secret
 * leaked into a log be recognised offline.
 */
public final class ApiKeySecrets {
  static final int BODY_LENGTH = 43;
  static final int CHECKSUM_LENGTH = 6;
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,14}_");
  /** A generated secret's body and checksum, after the prefix's underscore (whatever follows them). */
  private static final Pattern TAIL = Pattern.compile("_([0-9A-Za-z]{" + (BODY_LENGTH + CHECKSUM_LENGTH) + "})");

  private final String prefix;

  /**
   * @param prefix lowercase letters and digits ending in an underscore, e.g. {@code sk_}
   */
  public ApiKeySecrets(String prefix) {
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "the API key prefix must be 1-15 lowercase letters or digits followed by '_', e.g. sk_");
    }
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  /** A new secret. */
  public String generate() {
    String head = prefix + RandomStrings.base62(BODY_LENGTH);
    return head + checksum(head);
  }

  /** Whether the secret claims to be of this deployment's format (starts with its prefix). */
  public boolean hasPrefix(String secret) {
    return secret.startsWith(prefix);
  }

  /**
   * Whether a secret has exactly the shape of the secrets this deployment generates (prefix and
   * length); only such a secret can be judged by its checksum. An operator's own admin secret
   * may start with the prefix too, with any length.
   */
  public boolean hasGeneratedShape(String secret) {
    return hasPrefix(secret) && secret.length() == prefix.length() + BODY_LENGTH + CHECKSUM_LENGTH;
  }

  /** Whether a secret with this deployment's prefix has the right length, alphabet and checksum. */
  public boolean isWellFormed(String secret) {
    if (secret.length() != prefix.length() + BODY_LENGTH + CHECKSUM_LENGTH || !hasPrefix(secret)) {
      return false;
    }
    String rest = secret.substring(prefix.length());
    if (!RandomStrings.isBase62(rest)) {
      return false;
    }
    int split = secret.length() - CHECKSUM_LENGTH;
    return checksum(secret.substring(0, split)).equals(secret.substring(split));
  }

  /**
   * Whether {@code text} holds a secret of this format, of any deployment's prefix: a prefix,
   * 43 base62 characters and the checksum of all that. A text that is no secret passes the
   * checksum by chance once in about 57 billion tries, so this finds pasted secrets, not
   * lookalikes. For values that are stored and shown again (a user id in every audit line).
   */
  public static boolean containsSecret(String text) {
    Matcher tail = TAIL.matcher(text);
    while (tail.find()) {
      int underscore = tail.start();
      String body = tail.group(1).substring(0, BODY_LENGTH);
      String check = tail.group(1).substring(BODY_LENGTH);
      // Every prefix the format allows that ends at this underscore.
      for (int start = Math.max(0, underscore - 15); start < underscore; start++) {
        String prefix = text.substring(start, underscore + 1);
        if (PREFIX.matcher(prefix).matches() && checksum(prefix + body).equals(check)) {
          return true;
        }
      }
    }
    return false;
  }

  /** What may be shown of a secret: its prefix and its last 4 characters. */
  public String hint(String secret) {
    String head = hasPrefix(secret) ? prefix : "";
    return head + "..." + secret.substring(Math.max(0, secret.length() - 4));
  }

  private static String checksum(String head) {
    CRC32 crc = new CRC32();
    crc.update(head.getBytes(StandardCharsets.US_ASCII));
    return RandomStrings.base62Fixed(crc.getValue(), CHECKSUM_LENGTH);
  }
}
