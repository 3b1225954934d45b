package dev.tokenauthority.server.apikey;

import com.google.common.net.InetAddresses;
import dev.tokenauthority.server.error.Violations;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Web origins (RFC 6454) as API keys allow them and tokens are bound to them:
 * {@code scheme://host[:port]}, http or https, no path, query or user info. Compared in their
 * normalised form: lowercase, default ports dropped.
 */
public final class Origins {
  public static final int MAX_LENGTH = 255;

  /** The most origins one key may allow. */
  public static final int MAX_PER_KEY = 32;

  private static final String SHAPE = "an origin is scheme://host[:port] with http or https and no path";

  private Origins() {}

  /**
   * An optional origin of a request, normalised: empty stays empty; one that is not an origin is
   * recorded in {@code v} under {@code field} (and gives empty).
   */
  public static String validateOptional(String value, String field, Violations v) {
    if (value.isEmpty()) {
      return "";
    }
    Optional<String> normalised = normalise(value);
    v.check(normalised.isPresent(), field, SHAPE);
    return normalised.orElse("");
  }

  /**
   * The origins a key is to allow, normalised and de-duplicated in their order; each bad one,
   * and more than {@link #MAX_PER_KEY}, is recorded in {@code v}.
   */
  public static List<String> validateAll(List<String> requested, String field, Violations v) {
    v.check(requested.size() <= MAX_PER_KEY, field, "at most " + MAX_PER_KEY + " origins");
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (int i = 0; i < requested.size() && i < MAX_PER_KEY; i++) {
      Optional<String> origin = normalise(requested.get(i));
      if (origin.isPresent()) {
        out.add(origin.get());
      } else {
        v.add(field + "[" + i + "]", SHAPE);
      }
    }
    return List.copyOf(out);
  }

  /**
   * Whether a presented origin is the one a token is bound to: any presented origin when it is
   * bound to none, else the same origin once normalised.
   */
  public static boolean matchesBinding(String bound, String presented) {
    return bound.isEmpty() || asNormalisedNow(bound).equals(normalise(presented).orElse(""));
  }

  /**
   * A stored origin in today's normal form: before 2026-12-07 an IPv6 literal was stored as
   * written ({@code [0:0:0:0:0:0:0:1]}), so keys and sessions of then still match what browsers
   * send. Anything else is stored normalised already and returned as it is.
   */
  public static String asNormalisedNow(String stored) {
    return stored.indexOf('[') < 0 ? stored : normalise(stored).orElse(stored);
  }

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
      if (port == 0 || port > 65535) {
        // A browser never sends such an origin: a binding to it could never match.
        return Optional.empty();
      }
      boolean defaultPort =
          port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
      String host = uri.getHost().toLowerCase(Locale.ROOT);
      if (host.startsWith("[")) {
        // An IPv6 literal in the one form a browser sends (RFC 5952: zeros compressed,
        // lowercase): [0:0:0:0:0:0:0:1] would otherwise never match [::1].
        String text = host.substring(1, host.length() - 1);
        java.net.InetAddress literal = InetAddresses.forString(text);
        if (literal instanceof java.net.Inet4Address && InetAddresses.isMappedIPv4Address(text)) {
          // Guava and the JDK make ::ffff:a.b.c.d an IPv4 address; a browser writes it in hex.
          byte[] mapped = new byte[16];
          mapped[10] = (byte) 0xff;
          mapped[11] = (byte) 0xff;
          System.arraycopy(literal.getAddress(), 0, mapped, 12, 4);
          literal = java.net.Inet6Address.getByAddress(null, mapped, (java.net.NetworkInterface) null);
        }
        if (literal instanceof java.net.Inet6Address) {
          host = "[" + InetAddresses.toAddrString(literal) + "]";
        }
      }
      return Optional.of(scheme + "://" + host + (defaultPort ? "" : ":" + port));
    } catch (URISyntaxException | IllegalArgumentException | java.net.UnknownHostException e) {
      return Optional.empty();
    }
  }
}
