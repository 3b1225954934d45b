package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.TokenAuthorityClient;
import dev.tokenauthority.server.testing.InProcessAuthority;
import io.grpc.Channel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** Runs the CLI in-process, as {@code java -jar} would, and captures its exit code, stdout and stderr. */
final class CliRunner {
  /** What one run of the CLI did. */
  record Result(int code, String out, String err) {
    /** Everything the user saw. */
    String all() {
      return out + err;
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private final ClientFactory factory;
  private final Clock clock;
  private final AtomicReference<Connection> lastConnection = new AtomicReference<>();
  private Map<String, String> env = Map.of();
  private String stdin = "";

  CliRunner(ClientFactory factory, Clock clock) {
    this.factory = factory;
    this.clock = clock;
  }

  /** Commands reach the server of {@code ta} over its in-process channel, with the API key they were given. */
  static CliRunner inProcess(InProcessAuthority ta) {
    return over(ta.channel(), ta.clock());
  }

  static CliRunner over(Channel channel, Clock clock) {
    return new CliRunner(c -> TokenAuthorityClient.builder().channel(channel).apiKey(c.apiKey()).build(), clock);
  }

  CliRunner env(Map<String, String> env) {
    this.env = env;
    return this;
  }

  CliRunner stdin(String stdin) {
    this.stdin = stdin;
    return this;
  }

  /** The connection options of the last command that made a client. */
  Connection lastConnection() {
    return lastConnection.get();
  }

  Result run(String... args) {
    StringWriter out = new StringWriter();
    Result r = run(new PrintWriter(out, true), args);
    return new Result(r.code(), out.toString(), r.err());
  }

  /** Runs with a stdout that refuses every write, as a full disk or a closed pipe does. */
  Result runWithStdoutFailing(String... args) {
    OutputStream full =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("No space left on device");
          }
        };
    return run(new PrintWriter(new PrintStream(full, true, StandardCharsets.UTF_8), true, StandardCharsets.UTF_8), args);
  }

  private Result run(PrintWriter out, String... args) {
    StringWriter err = new StringWriter();
    ClientFactory recording =
        c -> {
          lastConnection.set(c);
          return factory.create(c);
        };
    TokenAuthorityCli cli =
        new TokenAuthorityCli(recording, env::get, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), clock);
    int code = cli.run(out, new PrintWriter(err, true), args);
    return new Result(code, "", err.toString());
  }
}
