package dev.tokenauthority.client.cli;

/** The entry point of {@code java -jar token-authority-cli.jar}: runs one command and exits with its code. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // The library logs through SLF4J and the CLI ships no logging backend: without these, SLF4J
    // would warn about that on stderr, where only errors belong. -D on the command line wins.
    System.getProperties().putIfAbsent("slf4j.internal.verbosity", "WARN");
    System.getProperties().putIfAbsent("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    System.exit(TokenAuthorityCli.standard().run(args));
  }
}
