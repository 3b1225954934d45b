package dev.tokenauthority.server.tls;

import dev.tokenauthority.server.config.SettingException;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslSessionContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS: a certificate chain and its key (PEM files), and optionally a CA whose
 * client certificates it requires (mTLS). The files are checked every {@code reloadInterval}
 * and, when any changed, read again; a new certificate is used from the next handshake on,
 * without a restart. Files caught half-written (a key that does not match its certificate, a
 * truncated PEM) are ignored until they are whole; the previous certificate stays in use.
 *
 * <p>The credentials rest on grpc's {@link AdvancedTlsX509KeyManager} and
 * {@link AdvancedTlsX509TrustManager}, whose contents this class replaces on change (their own
 * file polling waits at least a minute and cannot tell a half-written pair).
 */
public final class ServerTls implements AutoCloseable {
  public static final String CERT_OPTION = "--tls-cert";
  public static final String KEY_OPTION = "--tls-key";
  public static final String CLIENT_CA_OPTION = "--tls-client-ca";
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  private final Path certFile;
  private final Path keyFile;
  private final Path clientCaFile;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager trustManager;
  /** The same CAs, asked again by every call (a resumed session or an old connection skips the handshake's check). */
  private final ClientCertificateTrust clientTrust;
  /** The gRPC port's TLS contexts (mTLS only), whose sessions a change of client CAs voids. */
  private final List<SslContext> grpcContexts = new CopyOnWriteArrayList<>();
  private static final SecureRandom TICKET_KEYS = new SecureRandom();
  private final ServerCredentials credentials;
  private final ScheduledExecutorService reloader;
  private volatile X509Certificate leaf;
  private volatile X509Certificate[] clientCas;
  private List<Stamp> loaded;
  private List<Stamp> lastRefused;

  /** What tells a file changed: its modification time and size. */
  private record Stamp(Path file, long modifiedMillis, long size) {
    static Stamp of(Path file) {
      try {
        return new Stamp(file, Files.getLastModifiedTime(file).toMillis(), Files.size(file));
      } catch (IOException e) {
        return new Stamp(file, -1, -1);
      }
    }
  }

  private ServerTls(Path certFile, Path keyFile, Path clientCaFile) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.clientCaFile = clientCaFile;
    this.loaded = stamps();
    load();
    TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder().keyManager(keyManager);
    if (clientCaFile != null) {
      try {
        trustManager =
            AdvancedTlsX509TrustManager.newBuilder()
                .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
                .build();
        trustManager.updateTrustCredentials(clientCas);
        clientTrust = new ClientCertificateTrust(clientCas);
      } catch (IOException | GeneralSecurityException e) {
        throw new SettingException(CLIENT_CA_OPTION, "cannot use the CA certificates of " + clientCaFile + ": " + e.getMessage());
      }
      builder.trustManager(new UnhintedTrustManager(trustManager)).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    } else {
      trustManager = null;
      clientTrust = null;
    }
    this.credentials = builder.build();
    this.reloader =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tls-reload");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Reads and checks the files.
   *
   * @param clientCaFile null: no client certificates asked for
   * @throws SettingException naming the option of a file that is missing, unreadable, not PEM,
   *     or a key that does not belong to its certificate
   */
  public static ServerTls load(Path certFile, Path keyFile, Path clientCaFile) {
    return new ServerTls(
        Objects.requireNonNull(certFile, "certFile"), Objects.requireNonNull(keyFile, "keyFile"), clientCaFile);
  }

  /** Starts checking the files for changes every {@code interval}. */
  public ServerTls startReloading(Duration interval) {
    long every = Math.max(1, interval.toMillis());
    reloader.scheduleWithFixedDelay(this::reloadIfChanged, every, every, TimeUnit.MILLISECONDS);
    return this;
  }

  private List<Stamp> stamps() {
    return clientCaFile == null
        ? List.of(Stamp.of(certFile), Stamp.of(keyFile))
        : List.of(Stamp.of(certFile), Stamp.of(keyFile), Stamp.of(clientCaFile));
  }

  private void load() {
    X509Certificate[] chain = PemFiles.certificates(certFile, CERT_OPTION);
    PrivateKey key = PemFiles.privateKey(keyFile, KEY_OPTION);
    if (!PemFiles.matches(key, chain[0])) {
      throw new SettingException(KEY_OPTION, keyFile + " is not the private key of the certificate in " + certFile);
    }
    X509Certificate[] cas = clientCaFile == null ? null : PemFiles.certificates(clientCaFile, CLIENT_CA_OPTION);
    keyManager.updateIdentityCredentials(chain, key);
    leaf = chain[0];
    clientCas = cas;
  }

  /** Runs on the reload thread only. */
  void reloadIfChanged() {
    List<Stamp> now = stamps();
    if (now.equals(loaded) || now.equals(lastRefused)) {
      return;
    }
    try {
      load();
      if (trustManager != null) {
        // The calls' check first: if it cannot take the CAs, the handshake keeps the old ones too.
        clientTrust.update(clientCas);
        trustManager.updateTrustCredentials(clientCas);
        grpcContexts.forEach(ServerTls::forgetSessions);
      }
      loaded = now;
      lastRefused = null;
      log.info("TLS files changed: now serving {}", describe());
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      // Often a rotation caught between writing the certificate and the key: try again next time.
      if (!now.equals(lastRefused)) {
        log.warn("TLS files changed but cannot be used yet, keeping the previous ones: {}", e.getMessage());
      }
      lastRefused = now;
    }
  }

  /**
   * A gRPC server builder listening on {@code address} with this TLS. With client certificates
   * required, the TLS sessions issued before the client CAs change are not resumed after it: a
   * resumed session skips the certificate check, so a client must make a full handshake, under
   * the new CAs. Without, grpc's own credentials.
   */
  public NettyServerBuilder serverBuilder(SocketAddress address) {
    if (trustManager == null) {
      return NettyServerBuilder.forAddress(address, credentials);
    }
    try {
      SslContext context = GrpcSslContexts.configure(SslContextBuilder.forServer(keyManager))
          .trustManager(new UnhintedTrustManager(trustManager))
          .clientAuth(ClientAuth.REQUIRE)
          .build();
      grpcContexts.add(context);
      forgetSessions(context);
      return NettyServerBuilder.forAddress(address).sslContext(context);
    } catch (SSLException e) {
      throw new SettingException(CERT_OPTION, "cannot set up TLS: " + e.getMessage());
    }
  }

  /**
   * Makes every session {@code context} issued so far impossible to resume: new session-ticket
   * keys (OpenSSL's TLS 1.3 tickets outlive the session timeout) and the session cache emptied.
   */
  private static void forgetSessions(SslContext context) {
    SSLSessionContext sessions = context.sessionContext();
    if (sessions instanceof OpenSslSessionContext openSsl) {
      openSsl.setTicketKeys(new OpenSslSessionTicketKey(
          random(OpenSslSessionTicketKey.NAME_SIZE), random(OpenSslSessionTicketKey.HMAC_KEY_SIZE),
          random(OpenSslSessionTicketKey.AES_KEY_SIZE)));
    }
    for (Enumeration<byte[]> ids = sessions.getIds(); ids.hasMoreElements(); ) {
      SSLSession session = sessions.getSession(ids.nextElement());
      if (session != null) {
        session.invalidate();
      }
    }
  }

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    TICKET_KEYS.nextBytes(bytes);
    return bytes;
  }

  /** The reloading key manager behind {@link #credentials()}, for the HTTP port's TLS. */
  public X509ExtendedKeyManager keyManager() {
    return keyManager;
  }

  /** The reloading trust manager of client certificates; empty when none are required. */
  public Optional<X509TrustManager> clientTrustManager() {
    return trustManager == null ? Optional.empty() : Optional.of(new UnhintedTrustManager(trustManager));
  }

  /**
   * The client CAs served now, for the check every call makes (TLS checks a client certificate
   * in a full handshake only); empty when none are required.
   */
  public Optional<ClientCertificateTrust> clientCertificateTrust() {
    return Optional.ofNullable(clientTrust);
  }

  /** When the certificate served now expires. */
  public Instant certificateNotAfter() {
    return leaf.getNotAfter().toInstant();
  }

  /** The certificate and client authentication, for the start-up log line. */
  public String describe() {
    String s = "certificate " + leaf.getSubjectX500Principal().getName() + " (expires " + certificateNotAfter() + ")";
    return clientCaFile == null ? s : s + ", client certificates required (CA " + clientCaFile + ")";
  }

  @Override
  public void close() {
    reloader.shutdownNow();
  }
}
