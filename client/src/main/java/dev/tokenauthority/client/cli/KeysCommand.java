package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.ApiKeyInfo;
import dev.tokenauthority.client.ApiKeyPage;
import dev.tokenauthority.client.CreateApiKeyParams;
import dev.tokenauthority.client.CreatedApiKey;
import dev.tokenauthority.client.TokenAuthorityClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keys create|list|revoke}: the API keys of a tenant. */
@Command(
    name = "keys",
    description = "Create, list and revoke API keys.",
    subcommands = {KeysCommand.CreateKey.class, KeysCommand.ListKeys.class, KeysCommand.RevokeKey.class})
final class KeysCommand {
  private KeysCommand() {}

  /** {@code keys create}: prints the new key and its secret, which is shown this once. */
  @Command(name = "create", description = "Create an API key. Its secret is printed this once and never again.")
  static final class CreateKey extends ClientCommand {
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "A name for people, 1-100 characters.")
    String name;

    @Option(
        names = "--scope",
        required = true,
        split = ",",
        paramLabel = "SCOPE",
        description = "What the key may do: sessions:mint, sessions:redeem, keys:read, keys:write, admin (repeat or comma-separate).")
    List<String> scopes;

    @Option(
        names = "--expires",
        paramLabel = "TIME",
        converter = Converters.ExpiryConverter.class,
        description = "When the key stops working: an RFC 3339 time or a duration from now (30d, 12h). Default: never.")
    Converters.Expiry expires;

    @Option(names = "--origin", split = ",", paramLabel = "ORIGIN", description = "An origin the key may bind tokens to (repeatable).")
    List<String> origins = new ArrayList<>();

    @Option(names = "--tenant", paramLabel = "TENANT", description = "The tenant (admin keys only). Default: the caller's own.")
    String tenant;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      CreateApiKeyParams.Builder params = CreateApiKeyParams.named(name).scopes(scopes).allowedOrigins(origins);
      if (expires != null) {
        params.expireTime(expires.from(root().clock().instant()));
      }
      if (tenant != null) {
        params.tenant(tenant);
      }
      CreatedApiKey created = client.createApiKey(params.build());
      if (out.json()) {
        out.printJson(created.toProto());
      } else {
        keyFields(out, created.apiKey()).add("secret", created.secret()).print();
      }
      String id = created.apiKey().id();
      if (out.failed()) {
        // The secret is gone for good; the key is not, and must not stay usable by nobody knows whom.
        spec.commandLine().getErr().println(
            "The key " + id + " was created, but its secret could not be written: revoke it with 'keys revoke " + id + "'.");
      } else if (!out.json()) {
        spec.commandLine().getErr().println("The secret is shown this once: store it now.");
      }
    }
  }

  /** {@code keys list}: one page of keys as a table. */
  @Command(name = "list", description = "List the API keys of a tenant, oldest first. Secrets are never listed.")
  static final class ListKeys extends ClientCommand {
    @Option(names = "--tenant", paramLabel = "TENANT", description = "The tenant (admin keys only). Default: the caller's own.")
    String tenant = "";

    @Option(names = "--page-size", paramLabel = "N", description = "At most this many keys (default 50; more than 1000 returns 1000).")
    int pageSize;

    @Option(names = "--page-token", paramLabel = "TOKEN", description = "Continue from a previous page.")
    String pageToken = "";

    @Override
    void run(TokenAuthorityClient client, Output out) {
      ApiKeyPage page = client.listApiKeys(tenant, pageSize, pageToken);
      if (out.json()) {
        out.printJson(page.toProto());
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      for (ApiKeyInfo k : page.apiKeys()) {
        rows.add(
            List.of(
                k.id(), k.name(), k.tenantId(), Output.list(k.scopes()), Output.list(k.allowedOrigins()),
                k.hint(), k.createTime().toString(), k.expireTime().map(Instant::toString).orElse("never"),
                k.lastUsedTime().map(Instant::toString).orElse("-")));
      }
      out.table(List.of("ID", "NAME", "TENANT", "SCOPES", "ORIGINS", "HINT", "CREATED", "EXPIRES", "LAST USED"), rows);
      page.nextPageToken().ifPresent(t -> out.line("next page: --page-token " + t));
    }
  }

  /** {@code keys revoke ID}. */
  @Command(name = "revoke", description = "Revoke an API key, at once and for good; every unredeemed session it minted stops working.")
  static final class RevokeKey extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "The key's id (key_...).")
    String id;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      out.revoked(id, client.revokeApiKey(id));
    }
  }

  static Output.Fields keyFields(Output out, ApiKeyInfo k) {
    return out.fields()
        .add("id", k.id())
        .add("name", k.name())
        .add("tenant", k.tenantId())
        .add("scopes", Output.list(k.scopes()))
        .add("origins", Output.list(k.allowedOrigins()))
        .add("hint", k.hint())
        .add("created", k.createTime())
        .add("expires", k.expireTime().map(Instant::toString).orElse("never"));
  }
}
