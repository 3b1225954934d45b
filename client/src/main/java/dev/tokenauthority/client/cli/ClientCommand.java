package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.TokenAuthorityClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that makes calls: it gets a client for the global options and closes it afterwards. */
abstract class ClientCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public final Integer call() throws Exception {
    RootCommand root = root();
    try (TokenAuthorityClient client = root.client(spec)) {
      run(client, new Output(spec.commandLine().getOut(), root.json));
    }
    return 0;
  }

  /** Makes the call and prints its result; failures propagate to the CLI's error handler. */
  abstract void run(TokenAuthorityClient client, Output out) throws Exception;

  RootCommand root() {
    return (RootCommand) spec.root().userObject();
  }
}
