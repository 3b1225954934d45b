package dev.tokenauthority.contract;

/**
 * The shape of a session token that the server writes and every verifier (the server's own,
 * the client library's offline {@code SessionVerifier}) must read the same way: a compact JWS,
 * {@code alg: EdDSA} (Ed25519), {@code typ: session+jwt}, the tenant in the {@code tid} claim, at
 * most {@value #MAX_LENGTH} characters, its signature spelled the one canonical way.
 */
public final class SessionTokens {
  /** The JWS header's {@code typ}. */
  public static final String TYPE = "session+jwt";
  /** The claim holding the tenant id. */
  public static final String TENANT_CLAIM = "tid";
  /** The issuer a server uses unless started with another {@code --issuer}. */
  public static final String DEFAULT_ISSUER = "token-authority";
  /** Tokens longer than this are refused before any parsing; the server never mints one. */
  public static final int MAX_LENGTH = 4096;
  /** 64 bytes in base64url without padding. */
  private static final int ED25519_SIGNATURE_CHARS = 86;

  private SessionTokens() {}

  /**
   * Whether the token's signature is spelled the one way an Ed25519 signature can be: 86
   * base64url characters, no padding, the last one with its 4 unused bits zero. A JWS signs its
   * header and payload as written but not its signature's text, so without this check one token
   * would verify in 16 spellings, and a list of seen tokens keyed on the string could be passed.
   */
  public static boolean canonicalSignature(String token) {
    int dot = token.lastIndexOf('.');
    if (token.length() - dot - 1 != ED25519_SIGNATURE_CHARS) {
      return false;
    }
    char last = token.charAt(token.length() - 1);
    return last == 'A' || last == 'Q' || last == 'g' || last == 'w';
  }
}
