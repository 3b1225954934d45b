package dev.tokenauthority.client.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.tokenauthority.client.MintSessionParams;
import dev.tokenauthority.client.MintedSession;
import dev.tokenauthority.client.TokenAuthorityClient;
import dev.tokenauthority.client.TokenAuthorityException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend's {@code POST /roleplay/token}: mints a session token at the moment of use, for
 * the user signed in to this backend, and hands it to the browser.
 */
public final class TokenEndpoint implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(TokenEndpoint.class);

  /** Your own sign-in: the user whose session cookie this request carries, if any. */
  public interface SignedInUsers {
    Optional<User> of(HttpExchange request);
  }

  public record User(String id, String agencyId) {}

  private final TokenAuthorityClient authority;
  private final SignedInUsers users;
  private final String appOrigin;

  public TokenEndpoint(TokenAuthorityClient authority, SignedInUsers users, String appOrigin) {
    this.authority = authority;
    this.users = users;
    this.appOrigin = appOrigin;
  }

  @Override
  public void handle(HttpExchange request) throws IOException {
    Optional<User> user = users.of(request);
    if (user.isEmpty()) {
      reply(request, 401, "{\"error\":\"sign in first\"}");
      return;
    }
    try {
      // Who the token stands for comes from our own session, never from the request body:
      // a browser that could name the user could act as anyone.
      MintedSession session =
          authority.mintSession(
              MintSessionParams.forUser(user.get().id())
                  .group(user.get().agencyId())
                  .audience("roleplay")
                  .origin(appOrigin)
                  .context(Map.of("persona", "Alex", "difficulty", 2))
                  .build());
      reply(request, 200, "{\"token\":\"" + session.token() + "\",\"expiresAt\":\"" + session.expireTime() + "\"}");
    } catch (TokenAuthorityException e) {
      // The exception never contains the API key or a token, so it is safe to log.
      switch (e.reason()) {
        case RATE_LIMITED -> {
          e.retryAfter().ifPresent(d -> request.getResponseHeaders().add("Retry-After", Long.toString(d.toSeconds() + 1)));
          reply(request, 429, "{\"error\":\"too many sessions, try again shortly\"}");
        }
        case QUOTA_EXCEEDED -> {
          // The tenant's sessions for the month are used up: retrying helps only next month.
          e.retryAfter().ifPresent(d -> request.getResponseHeaders().add("Retry-After", Long.toString(d.toSeconds() + 1)));
          reply(request, 429, "{\"error\":\"this month's sessions are used up\"}");
        }
        case TENANT_INACTIVE, TENANT_SUSPENDED, SUBSCRIPTION_PAST_DUE, SUBSCRIPTION_CANCELLED, MODULE_NOT_ENABLED -> {
          log.warn("the authority refused to mint: {}", e.getMessage());
          reply(request, 403, "{\"error\":\"roleplay is not available for your account\"}");
        }
        default -> {
          log.error("minting a session token failed: {}", e.getMessage());
          reply(request, 502, "{\"error\":\"try again later\"}");
        }
      }
    }
  }

  private static void reply(HttpExchange request, int status, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    request.getResponseHeaders().set("Content-Type", "application/json");
    request.getResponseHeaders().set("Cache-Control", "no-store");
    request.sendResponseHeaders(status, body.length);
    try (OutputStream out = request.getResponseBody()) {
      out.write(body);
    }
  }
}
