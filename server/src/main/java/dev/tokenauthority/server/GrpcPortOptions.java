package dev.tokenauthority.server;

import static dev.tokenauthority.server.config.OptionConverters.requirePositive;

import dev.tokenauthority.server.config.OptionConverters.DurationConverter;
import dev.tokenauthority.server.config.OptionConverters.IntConverter;
import dev.tokenauthority.server.config.SettingException;
import dev.tokenauthority.server.netty.ConnectionLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The settings that bound what clients of the gRPC port can hold: connections, calls per
 * connection, stream resets, handshake and idle time, keepalive and metadata size. Mixed into
 * {@link Main}; each is a flag, an environment variable and a config file key like any other.
 */
final class GrpcPortOptions {

  @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + ConnectionLimits.DEFAULT_MAX_CONNECTIONS, converter = IntConverter.class,
      description = "Open connections at most, on the gRPC port and again on the HTTP port; one more is refused"
          + " (gRPC: HTTP/2 GOAWAY 'too many connections') and closed.")
  int maxConnections;

  @Option(names = "--max-calls-per-connection", paramLabel = "N", defaultValue = "" + ConnectionLimits.DEFAULT_MAX_CALLS_PER_CONNECTION, converter = IntConverter.class,
      description = "Calls in flight per connection (HTTP/2 MAX_CONCURRENT_STREAMS), on both ports; also bounds the"
          + " responses a client that does not read can make the server hold.")
  int maxCallsPerConnection;

  @Option(names = "--max-resets-per-10s", paramLabel = "N", defaultValue = "200", converter = IntConverter.class,
      description = "Stream resets a connection may send in 10 s before it is closed (HTTP/2 rapid reset).")
  int maxResetsPer10s;

  @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
      description = "A connection that has not finished its TLS and HTTP/2 handshake by then is closed.")
  Duration handshakeTimeout;

  @Option(names = "--keepalive-time", paramLabel = "DURATION", defaultValue = "1m", converter = DurationConverter.class,
      description = "The server pings a connection quiet for this long, to find dead peers.")
  Duration keepAliveTime;

  @Option(names = "--keepalive-timeout", paramLabel = "DURATION", defaultValue = "20s", converter = DurationConverter.class,
      description = "A ping unanswered for this long closes the connection.")
  Duration keepAliveTimeout;

  @Option(names = "--permit-keepalive-time", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
      description = "Clients may ping at most this often; more often closes the connection (GOAWAY too_many_pings).")
  Duration permitKeepAliveTime;

  @Option(names = "--max-connection-idle", paramLabel = "DURATION", defaultValue = "5m", converter = DurationConverter.class,
      description = "A connection without calls for this long is closed (GOAWAY; clients reconnect when needed).")
  Duration maxConnectionIdle;

  @Option(names = "--max-metadata-size", paramLabel = "BYTES", defaultValue = "16384", converter = IntConverter.class,
      description = "Size of a call's request headers at most.")
  int maxMetadataBytes;

  /** @throws SettingException for a value out of range */
  ConnectionLimits limits() {
    requirePositive("--max-connections", maxConnections);
    requirePositive("--max-calls-per-connection", maxCallsPerConnection);
    requirePositive("--max-resets-per-10s", maxResetsPer10s);
    requirePositive("--max-metadata-size", maxMetadataBytes);
    requirePositive("--handshake-timeout", handshakeTimeout);
    requirePositive("--keepalive-time", keepAliveTime);
    requirePositive("--keepalive-timeout", keepAliveTimeout);
    requirePositive("--permit-keepalive-time", permitKeepAliveTime);
    requirePositive("--max-connection-idle", maxConnectionIdle);
    return new ConnectionLimits(maxConnections, maxCallsPerConnection, maxResetsPer10s, handshakeTimeout,
        keepAliveTime, keepAliveTimeout, permitKeepAliveTime, maxConnectionIdle, maxMetadataBytes);
  }
}
