package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.TokenAuthorityException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns every failure into one line on stderr and an exit code: 1 when the command could not
 * be run as given (usage, an unreadable file, a bad value), 2 when the server refused the call
 * or could not be reached ({@code error: TOKEN_ALREADY_USED: <message>}, then each invalid
 * field), 3 when the call succeeded but its result could not be written to stdout. Nothing it prints contains the API key or anything shaped like a secret or token.
 */
final class ErrorReporter implements IParameterExceptionHandler, IExecutionExceptionHandler {
  static final int USAGE = 1;
  static final int REFUSED = 2;
  /** The call succeeded, but stdout would not take its result (a closed pipe, a full disk). */
  static final int OUTPUT_LOST = 3;
  /**
   * A generated API key secret (a prefix of lowercase letters and digits as
   * {@code --api-key-prefix} allows, or with more underscores as an operator's own admin secret
   * may have, then 40+ base62 characters) or a compact JWS.
   */
  private static final Pattern SECRET_SHAPED =
      Pattern.compile("\\b[a-z0-9][a-z0-9_]{0,15}_[A-Za-z0-9]{40,}\\b|eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*");

  private final RootCommand root;

  ErrorReporter(RootCommand root) {
    this.root = root;
  }

  /**
   * A run of characters as long as the shortest admin secret an operator may choose (any 32+
   * characters, e.g. {@code openssl rand -hex 32}): no option value worth echoing in a usage
   * error is that long.
   */
  private static final Pattern LONG_RUN = Pattern.compile("[A-Za-z0-9+/=_.~-]{32,}");

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("error: " + parseMessage(ex));
    if (!UnmatchedArgumentException.printSuggestions(ex, err)) {
      err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
    }
    err.flush();
    return USAGE;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    int code;
    if (ex instanceof TokenAuthorityException e) {
      err.println("error: " + e.headline() + ": " + scrub(e.serverMessage()));
      e.fieldViolations().forEach(
          (field, description) -> {
            String line = field + ": " + scrub(description);
            // With one bad field the server's message is that field's line already.
            if (!line.equals(scrub(e.serverMessage()))) {
              err.println("  " + line);
            }
          });
      e.retryAfter().ifPresent(d -> err.println("  retry after " + d.toMillis() + " ms"));
      if (e.getCause() != null) {
        err.println("  cause: " + scrub(String.valueOf(e.getCause().getMessage())));
        // TLS failures wrap the telling reason ("unable to find valid certification path") deep down.
        Throwable root = e.getCause();
        for (int depth = 0; depth < 16 && root.getCause() != null && root.getCause() != root; depth++) {
          root = root.getCause();
        }
        if (root != e.getCause()) {
          err.println("  root cause: " + scrub(String.valueOf(root.getMessage())));
        }
      }
      code = REFUSED;
    } else if (ex instanceof UncheckedIOException e) {
      err.println("error: " + scrub(e.getMessage()) + ": " + scrub(String.valueOf(e.getCause().getMessage())));
      code = USAGE;
    } else if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException) {
      err.println("error: " + scrub(ex.getMessage()));
      code = USAGE;
    } else {
      err.println("error: unexpected " + ex.getClass().getSimpleName() + ": " + scrub(String.valueOf(ex.getMessage())));
      code = USAGE;
    }
    err.flush();
    return code;
  }

  /**
   * The usage error without the arguments it is about, unless they are options: an unknown
   * option's value ({@code --apikey <secret>}) or a stray argument may be a secret of any shape.
   */
  private String parseMessage(ParameterException ex) {
    if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      List<String> options = new ArrayList<>();
      int others = 0;
      for (String arg : u.getUnmatched()) {
        if (arg.startsWith("-") && arg.length() > 1) {
          int eq = arg.indexOf('=');
          options.add("'" + (eq > 0 ? arg.substring(0, eq) : arg) + "'");
        } else {
          others++;
        }
      }
      String message = options.isEmpty() ? "" : "unknown option" + (options.size() > 1 ? "s " : " ") + String.join(", ", options);
      if (others > 0) {
        message += (message.isEmpty() ? "" : " and ")
            + others + " unexpected argument" + (others > 1 ? "s" : "") + " (not shown: an argument may be a secret)";
      }
      return scrub(message);
    }
    return LONG_RUN.matcher(scrub(ex.getMessage())).replaceAll("[redacted]");
  }

  private String scrub(String text) {
    String out = text;
    String key = root.resolvedApiKey();
    // A key too short to be real is too likely to be part of ordinary words to be replaced.
    if (key != null && key.length() >= 8) {
      out = out.replace(key, "[redacted]");
    }
    return SECRET_SHAPED.matcher(out).replaceAll("[redacted]");
  }
}
