package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.TokenAuthorityClient;

/**
 * Makes the client a command talks through, from the global options. The CLI's own connects
 * over the network; a test passes one that connects to an in-process server.
 */
@FunctionalInterface
public interface ClientFactory {
  TokenAuthorityClient create(Connection connection);

  /** Connects to {@link Connection#target()} with TLS, or plaintext when asked. */
  static ClientFactory overNetwork() {
    return c -> {
      TokenAuthorityClient.Builder b = TokenAuthorityClient.builder().target(c.target()).apiKey(c.apiKey());
      if (c.plaintext()) {
        b.plaintext();
      } else {
        if (c.caCert() != null) {
          b.tls(c.caCert());
        } else {
          b.tls();
        }
        if (c.clientCert() != null) {
          b.clientCertificate(c.clientCert(), c.clientKey());
        }
      }
      return b.build();
    };
  }
}
