package dev.tokenauthority.client.cli;

import java.util.logging.LogManager;

/** The entry point of {@code java -jar token-authority-cli.jar}: runs one command and exits with its code. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // The library logs through SLF4J and the CLI ships no logging backend: without these, SLF4J
    // would warn about that on stderr, where only errors belong. -D on the command line wins.
    System.getProperties().putIfAbsent("slf4j.internal.verbosity", "WARN");
    System.getProperties().putIfAbsent("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    // grpc-java logs through java.util.logging, whose console handler printed a WARNING with a
    // stack trace before the CLI's own one-line error (an unresolvable host, for one). Every
    // failure reaches the user as that line, so the console handler goes.
    if (System.getProperty("java.util.logging.config.file") == null) {
      LogManager.getLogManager().reset();
    }
    System.exit(TokenAuthorityCli.standard().run(args));
  }
}
