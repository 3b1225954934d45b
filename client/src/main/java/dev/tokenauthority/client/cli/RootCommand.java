package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.TokenAuthorityClient;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;

/**
 * The top command: the global options, which every subcommand inherits, and what the
 * subcommands share (the client factory, the environment, stdin and the clock).
 */
@Command(
    name = "token-authority",
    description = "Operate a token authority: API keys, session tokens, tenants and signing keys.",
    mixinStandardHelpOptions = true,
    scope = ScopeType.INHERIT,
    versionProvider = VersionProvider.class,
    subcommands = {
      KeysCommand.class,
      SessionsCommand.class,
      TenantsCommand.class,
      JwksCommand.class,
      SigningKeysCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 success, 1 usage error, 2 the server refused the call or could not be reached,",
      "3 the result could not be written to stdout (a redeem's use is spent; keys create names the key to revoke)."
    })
final class RootCommand {
  static final String API_KEY_ENV = "TOKEN_AUTHORITY_API_KEY";

  @Option(
      names = "--target",
      scope = ScopeType.INHERIT,
      paramLabel = "HOST:PORT",
      defaultValue = "localhost:50051",
      description = "The authority's address (default: ${DEFAULT-VALUE}).")
  String target;

  @Option(names = "--plaintext", scope = ScopeType.INHERIT, description = "Connect without TLS (a sidecar on localhost).")
  boolean plaintext;

  @Option(
      names = "--api-key",
      scope = ScopeType.INHERIT,
      paramLabel = "SECRET",
      description = "The API key (default: the environment variable " + API_KEY_ENV + ", which keeps it out of shell history).")
  String apiKey;

  @Option(
      names = "--ca-cert",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Trust the CA certificates in this PEM file instead of the JDK's.")
  Path caCert;

  @Option(
      names = "--client-cert",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "A PEM client certificate chain, for mutual TLS (with --client-key).")
  Path clientCert;

  @Option(
      names = "--client-key",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "The PEM (PKCS#8) private key of --client-cert.")
  Path clientKey;

  @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print the response as JSON.")
  boolean json;

  private final ClientFactory factory;
  private final Function<String, String> env;
  private final InputStream stdin;
  private final Clock clock;

  RootCommand(ClientFactory factory, Function<String, String> env, InputStream stdin, Clock clock) {
    this.factory = factory;
    this.env = env;
    this.stdin = stdin;
    this.clock = clock;
  }

  /** The API key from --api-key or the environment; null when there is none. */
  String resolvedApiKey() {
    String key = apiKey != null && !apiKey.isBlank() ? apiKey : env.apply(API_KEY_ENV);
    return key == null || key.isBlank() ? null : key.strip();
  }

  /**
   * A client for the global options.
   *
   * @throws ParameterException when there is no API key or the TLS options contradict each other
   */
  TokenAuthorityClient client(CommandSpec command) {
    if (apiKey != null && apiKey.isBlank()) {
      // `--api-key "$KEY"` with KEY unset: falling back to the environment's key, perhaps a
      // stronger one, would run the command as someone the user did not name.
      throw new ParameterException(command.commandLine(), "--api-key is empty (an unset variable?); give a key or leave the option out");
    }
    String key = resolvedApiKey();
    if (key == null) {
      throw new ParameterException(command.commandLine(), "an API key is required: --api-key or " + API_KEY_ENV);
    }
    if (plaintext && (caCert != null || clientCert != null || clientKey != null)) {
      throw new ParameterException(command.commandLine(), "--plaintext cannot be combined with TLS options");
    }
    if ((clientCert == null) != (clientKey == null)) {
      throw new ParameterException(command.commandLine(), "--client-cert and --client-key go together");
    }
    return factory.create(new Connection(target, plaintext, key, caCert, clientCert, clientKey));
  }

  InputStream stdin() {
    return stdin;
  }

  Clock clock() {
    return clock;
  }
}
