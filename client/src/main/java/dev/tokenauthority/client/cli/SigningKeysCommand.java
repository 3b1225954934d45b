package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.SigningKeyRotation;
import dev.tokenauthority.client.TokenAuthorityClient;
import picocli.CommandLine.Command;

/** {@code signing-keys rotate}: the authority's signing keys (admin key). */
@Command(
    name = "signing-keys",
    description = "Manage the keys that sign session tokens (needs an admin key).",
    subcommands = SigningKeysCommand.Rotate.class)
final class SigningKeysCommand {
  private SigningKeysCommand() {}

  /** {@code signing-keys rotate}. */
  @Command(
      name = "rotate",
      description = "Make a new signing key active. The old one keeps verifying until every token it signed has expired.")
  static final class Rotate extends ClientCommand {
    @Override
    void run(TokenAuthorityClient client, Output out) {
      SigningKeyRotation rotation = client.rotateSigningKey();
      if (out.json()) {
        out.printJson(rotation.toProto());
        return;
      }
      out.fields().add("kid", rotation.kid()).add("created", rotation.createTime()).print();
    }
  }
}
