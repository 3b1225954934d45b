package dev.tokenauthority.server.apikey;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * Web origins (RFC 6454) as API keys allow them and tokens are bound to them:
 * {@code scheme://host[:port]}, http or https, no path, query or user info. Compared in their
 * normalised form: lowercase, default ports dropped.
 */
public final class Origins {
  public static final int MAX_LENGTH = 255;

  private Origins() {}

  /** The normalised origin, or empty when {@code value} is not a serialised origin. */
  public static Optional<String> normalise(String value) {
    if (value.isEmpty() || value.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    try {
      URI uri = new URI(value);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        return Optional.empty();
      }
      if (uri.getHost() == null
          || uri.getRawUserInfo() != null
          || !(uri.getRawPath() == null || uri.getRawPath().isEmpty())
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null) {
        return Optional.empty();
      }
      int port = uri.getPort();
      boolean defaultPort =
          port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
      String host = uri.getHost().toLowerCase(Locale.ROOT);
      return Optional.of(scheme + "://" + host + (defaultPort ? "" : ":" + port));
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
  }
}
