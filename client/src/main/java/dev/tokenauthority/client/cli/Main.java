package dev.tokenauthority.client.cli;

/** The entry point of {@code java -jar token-authority-cli.jar}: runs one command and exits with its code. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // The library logs through SLF4J; the CLI ships no logging backend, so say nothing about it.
    System.setProperty("slf4j.internal.verbosity", "WARN");
    System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    System.exit(TokenAuthorityCli.standard().run(args));
  }
}
