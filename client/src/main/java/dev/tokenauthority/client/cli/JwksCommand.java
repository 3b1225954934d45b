package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.JsonWebKey;
import dev.tokenauthority.client.JsonWebKeySet;
import dev.tokenauthority.client.TokenAuthorityClient;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code jwks}: the public signing keys; {@code --json} prints the RFC 7517 JWK Set. */
@Command(name = "jwks", description = "Show the public keys that verify session tokens (--json: the JWK Set).")
final class JwksCommand extends ClientCommand {
  @Override
  void run(TokenAuthorityClient client, Output out) {
    JsonWebKeySet set = client.getJwks();
    if (out.json()) {
      out.printJson(set.toProto());
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonWebKey k : set.keys()) {
      rows.add(List.of(k.kid(), k.kty(), k.crv(), k.alg(), k.use(), k.x()));
    }
    out.table(List.of("KID", "KTY", "CRV", "ALG", "USE", "X"), rows);
  }
}
