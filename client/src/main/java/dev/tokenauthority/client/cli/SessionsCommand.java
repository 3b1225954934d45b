package dev.tokenauthority.client.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.client.Introspection;
import dev.tokenauthority.client.MintSessionParams;
import dev.tokenauthority.client.MintedSession;
import dev.tokenauthority.client.RedeemParams;
import dev.tokenauthority.client.RedeemedSession;
import dev.tokenauthority.client.TokenAuthorityClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code sessions mint|redeem|introspect|revoke}: session tokens. */
@Command(
    name = "sessions",
    description = "Mint, redeem, introspect and revoke session tokens.",
    subcommands = {
      SessionsCommand.MintSession.class,
      SessionsCommand.RedeemSession.class,
      SessionsCommand.IntrospectSession.class,
      SessionsCommand.RevokeSession.class
    })
final class SessionsCommand {
  private static final String TOKEN_HELP = "The session token, or - to read it from stdin (keeps it out of shell history).";

  private SessionsCommand() {}

  /** {@code sessions mint}. */
  @Command(name = "mint", description = "Mint a session token for one user.")
  static final class MintSession extends ClientCommand {
    @Option(names = "--user", required = true, paramLabel = "USER", description = "The user the token stands for, e.g. rep_8842.")
    String user;

    @Option(names = "--group", paramLabel = "GROUP", description = "The user's group, e.g. an agency.")
    String group;

    @Option(
        names = "--ttl",
        paramLabel = "DURATION",
        converter = Converters.DurationConverter.class,
        description = "How long the token lives: seconds, or 90s, 5m, 1h (default: the tenant's, 300 s).")
    Duration ttl;

    @Option(names = "--max-uses", paramLabel = "N", description = "How many redemptions it allows (default 1).")
    Integer maxUses;

    @Option(names = "--audience", paramLabel = "AUDIENCE", description = "The module or service the token is for.")
    String audience;

    @Option(names = "--origin", paramLabel = "ORIGIN", description = "Bind the token to this origin, e.g. https://app.example.com.")
    String origin;

    @Option(names = "--scope", split = ",", paramLabel = "SCOPE", description = "A scope the session carries (repeatable).")
    List<String> scopes = new ArrayList<>();

    @Option(
        names = "--context",
        paramLabel = "JSON",
        converter = Converters.JsonObjectConverter.class,
        description = "A JSON object kept with the session and returned to the redeemer, e.g. '{\"persona\":\"Alex\"}'.")
    Struct context;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      MintSessionParams.Builder params = MintSessionParams.forUser(user).scopes(scopes);
      if (group != null) {
        params.group(group);
      }
      if (ttl != null) {
        params.ttl(ttl);
      }
      if (maxUses != null) {
        params.maxUses(maxUses);
      }
      if (audience != null) {
        params.audience(audience);
      }
      if (origin != null) {
        params.origin(origin);
      }
      if (context != null) {
        params.context(context);
      }
      MintedSession minted = client.mintSession(params.build());
      if (out.json()) {
        out.printJson(minted.toProto());
        return;
      }
      out.fields()
          .add("token", minted.token())
          .add("session_id", minted.sessionId())
          .add("expires", minted.expireTime() + " (in " + minted.expiresIn().toSeconds() + " s)")
          .print();
    }
  }

  /** {@code sessions redeem TOKEN}. */
  @Command(name = "redeem", description = "Redeem a session token: consumes one use and prints what it stands for.")
  static final class RedeemSession extends ClientCommand {
    @Parameters(paramLabel = "TOKEN", description = TOKEN_HELP)
    String token;

    @Option(names = "--audience", paramLabel = "AUDIENCE", description = "Refuse the token unless it is for this audience.")
    String audience;

    @Option(names = "--origin", paramLabel = "ORIGIN", description = "The origin, required when the token is bound to one.")
    String origin;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      RedeemParams.Builder params = RedeemParams.token(readToken(this, token));
      if (audience != null) {
        params.audience(audience);
      }
      if (origin != null) {
        params.origin(origin);
      }
      RedeemedSession s = client.redeem(params.build());
      if (out.json()) {
        out.printJson(s.toProto());
        return;
      }
      out.fields()
          .add("session_id", s.sessionId())
          .add("tenant", s.tenantId())
          .add("api_key_id", s.apiKeyId())
          .add("user", s.externalUserId())
          .add("group", s.externalGroupId().orElse("-"))
          .add("audience", s.audience().orElse("-"))
          .add("scopes", Output.list(s.scopes()))
          .add("context", compactJson(s.toProto().getContext()))
          .add("issued", s.issueTime())
          .add("expires", s.expireTime())
          .add("uses_remaining", s.usesRemaining())
          .print();
    }
  }

  /** {@code sessions introspect TOKEN}: exit code 0 whether or not the token is active. */
  @Command(
      name = "introspect",
      description = "Check a session token without consuming a use. Prints active false and the reason for a bad token (exit code 0).")
  static final class IntrospectSession extends ClientCommand {
    @Parameters(paramLabel = "TOKEN", description = TOKEN_HELP)
    String token;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      Introspection i = client.introspect(readToken(this, token));
      if (out.json()) {
        out.printJson(i.toProto());
        return;
      }
      if (!i.active()) {
        out.fields().add("active", false).add("reason", i.reasonName()).print();
        return;
      }
      out.fields()
          .add("active", true)
          .add("session_id", i.sessionId().orElse("-"))
          .add("tenant", i.tenantId().orElse("-"))
          .add("api_key_id", i.apiKeyId().orElse("-"))
          .add("user", i.externalUserId().orElse("-"))
          .add("group", i.externalGroupId().orElse("-"))
          .add("audience", i.audience().orElse("-"))
          .add("origin", i.origin().orElse("-"))
          .add("scopes", Output.list(i.scopes()))
          .add("issued", i.issueTime().map(Instant::toString).orElse("-"))
          .add("expires", i.expireTime().map(Instant::toString).orElse("-"))
          .add("uses_remaining", i.usesRemaining())
          .print();
    }
  }

  /** {@code sessions revoke ID}. */
  @Command(name = "revoke", description = "Revoke a session by its id: its token stops working at once.")
  static final class RevokeSession extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "The session's id (ses_...).")
    String id;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      out.revoked(id, client.revokeSession(id));
    }
  }

  /** The token argument, or the first line of stdin when it is {@code -}. */
  static String readToken(ClientCommand command, String argument) {
    if (argument.isBlank()) {
      // "$TOKEN" of an unset variable: a usage mistake, not a token for the server to refuse.
      throw new ParameterException(command.spec.commandLine(), "the token is empty (an unset shell variable?); give a token or - for stdin");
    }
    if (!"-".equals(argument)) {
      return argument;
    }
    try {
      String text = new String(command.root().stdin().readAllBytes(), StandardCharsets.UTF_8).strip();
      int newline = text.indexOf('\n');
      String token = newline < 0 ? text : text.substring(0, newline).strip();
      if (token.isEmpty()) {
        throw new ParameterException(command.spec.commandLine(), "no token on stdin");
      }
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the token from stdin", e);
    }
  }

  static String compactJson(Struct struct) {
    try {
      return JsonFormat.printer().omittingInsignificantWhitespace().print(struct);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
