package dev.tokenauthority.client.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The command-line tool, ready to run: the command tree with its exit codes and error output.
 * Everything it touches outside itself (how it connects, the environment, stdin, the clock,
 * stdout and stderr) is passed in, so tests run it in-process.
 */
public final class TokenAuthorityCli {
  private final ClientFactory factory;
  private final Function<String, String> env;
  private final InputStream stdin;
  private final Clock clock;

  public TokenAuthorityCli(ClientFactory factory, Function<String, String> env, InputStream stdin, Clock clock) {
    this.factory = factory;
    this.env = env;
    this.stdin = stdin;
    this.clock = clock;
  }

  /** The CLI as {@code java -jar} runs it: over the network, with the process's environment and stdin. */
  public static TokenAuthorityCli standard() {
    return new TokenAuthorityCli(ClientFactory.overNetwork(), System::getenv, System.in, Clock.systemUTC());
  }

  /** Runs one command line on the process's stdout and stderr; returns the exit code. */
  public int run(String... args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    return run(out, err, args);
  }

  /** Runs one command line, printing on {@code out} and {@code err}; returns the exit code. */
  public int run(PrintWriter out, PrintWriter err, String... args) {
    RootCommand root = new RootCommand(factory, env, stdin, clock);
    ErrorReporter errors = new ErrorReporter(root);
    CommandLine cmd =
        new CommandLine(root)
            .setOut(out)
            .setErr(err)
            .setCaseInsensitiveEnumValuesAllowed(true)
            // picocli would read '@file' as the arguments written in that file: a user id
            // beginning with '@' would become options (and a parse error would print the file).
            .setExpandAtFiles(false)
            .setParameterExceptionHandler(errors)
            .setExecutionExceptionHandler(errors);
    int code = cmd.execute(args);
    // A PrintWriter keeps a failed write to itself: without this, a closed or full stdout
    // exits 0 having shown nothing, after a key was created or a token's use taken.
    if (out.checkError()) {
      err.println("error: the output could not be written to stdout (closed or full)");
      code = code == 0 ? ErrorReporter.OUTPUT_LOST : code;
    }
    err.flush();
    return code;
  }
}
