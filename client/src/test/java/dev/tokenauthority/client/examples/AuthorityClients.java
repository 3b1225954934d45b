package dev.tokenauthority.client.examples;

import dev.tokenauthority.client.RetryPolicy;
import dev.tokenauthority.client.TokenAuthorityClient;
import java.time.Duration;

/** How a service builds its one client: at start-up, shared by every request, closed at shutdown. */
public final class AuthorityClients {
  private AuthorityClients() {}

  public static TokenAuthorityClient connect(String target, String apiKey) {
    return TokenAuthorityClient.builder()
        .target(target) // e.g. "token-authority.internal:443"
        .tls() // the JDK's trusted roots; .tls(Path.of("ca.pem")) for a private CA
        .apiKey(apiKey) // from your secret store, never from source code
        .deadline(Duration.ofSeconds(2)) // per call, retries included
        .retryPolicy(RetryPolicy.defaults().withMaxAttempts(3))
        .build();
  }
}
