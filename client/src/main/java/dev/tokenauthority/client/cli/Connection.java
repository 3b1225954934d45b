package dev.tokenauthority.client.cli;

import java.nio.file.Path;

/**
 * The global options that say where and how to connect, with the API key resolved from
 * {@code --api-key} or {@code TOKEN_AUTHORITY_API_KEY}. Its {@link #toString()} leaves the key out.
 *
 * @param caCert PEM CA certificates to trust instead of the JDK's, or null
 * @param clientCert PEM client certificate chain for mutual TLS, or null
 * @param clientKey PEM PKCS#8 private key of {@code clientCert}, or null
 */
public record Connection(String target, boolean plaintext, String apiKey, Path caCert, Path clientCert, Path clientKey) {
  @Override
  public String toString() {
    return "Connection[target=" + target + ", plaintext=" + plaintext + ", apiKey=[redacted]]";
  }
}
