package dev.tokenauthority.client;

import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.GetTenantRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.ListTenantsRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RevokeResponse;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.TenantAdminGrpc;
import dev.tokenauthority.v1.TenantAdminGrpc.TenantAdminBlockingStub;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import dev.tokenauthority.v1.UpdateTenantRequest;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelRegistry;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client of a token authority: one method per RPC of {@code TokenAuthority} and
 * {@code TenantAdmin}, with Java types in and out. The API key travels as call credentials;
 * every call gets the default deadline; calls that are safe to repeat are retried by the
 * {@link RetryPolicy}; every failure is a {@link TokenAuthorityException}. Thread-safe: build
 * one per API key and share it. {@link #close()} shuts down the channel only if the client
 * created it.
 */
public final class TokenAuthorityClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenAuthorityClient.class);
  /** Long enough for a call over a slow network, short enough that a stuck call does not hang a request. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);
  /** A day: longer is no deadline at all, and would overflow the nanoseconds every call counts in. */
  static final Duration MAX_DEADLINE = Duration.ofDays(1);

  /** Waits between attempts; a test replaces it so no test sleeps. */
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  private final ManagedChannel ownedChannel;
  private final String description;
  private final TokenAuthorityBlockingStub tokens;
  private final TenantAdminBlockingStub tenants;
  private final String apiKey;
  private final Duration deadline;
  private final RetryPolicy retryPolicy;
  private final Sleeper sleeper;
  private final DoubleSupplier random;

  private TokenAuthorityClient(Builder b, ApiKeyCredentials credentials, Channel channel, ManagedChannel ownedChannel) {
    this.ownedChannel = ownedChannel;
    this.description = b.target != null ? b.target : "channel";
    this.tokens = TokenAuthorityGrpc.newBlockingStub(channel).withCallCredentials(credentials);
    this.tenants = TenantAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials);
    this.apiKey = b.apiKey.strip();
    this.deadline = b.deadline;
    this.retryPolicy = b.retryPolicy;
    this.sleeper = b.sleeper;
    this.random = b.random;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Mints a session token for {@code externalUserId} with the tenant's defaults. Retried when safe. */
  public MintedSession mintSession(String externalUserId) {
    return mintSession(MintSessionParams.forUser(externalUserId).build());
  }

  /**
   * Mints a session token. Retried on UNAVAILABLE and RATE_LIMITED: a repeat at worst mints a
   * token nobody redeems, which costs nothing.
   */
  public MintedSession mintSession(MintSessionParams params) {
    return new MintedSession(call("MintSession", true, d -> tokens.withDeadline(d).mintSession(params.toProto())));
  }

  /** Consumes one use of {@code token} and returns what it stands for. Never retried. */
  public RedeemedSession redeem(String token) {
    return redeem(RedeemParams.token(token).build());
  }

  /**
   * Consumes one use of a token, checking its audience and origin. Never retried: a repeat of a
   * redemption whose answer was lost would consume another use, or fail as TOKEN_ALREADY_USED.
   */
  public RedeemedSession redeem(RedeemParams params) {
    return new RedeemedSession(call("Redeem", false, d -> tokens.withDeadline(d).redeem(params.toProto()), params.token()));
  }

  /** Checks a token without consuming a use. Retried when safe. */
  public Introspection introspect(String token) {
    IntrospectRequest request = IntrospectRequest.newBuilder().setToken(token).build();
    return new Introspection(call("Introspect", true, d -> tokens.withDeadline(d).introspect(request), token));
  }

  /** Creates an API key; its secret is in the result this once. Never retried (a repeat would make a second key). */
  public CreatedApiKey createApiKey(CreateApiKeyParams params) {
    return new CreatedApiKey(call("CreateApiKey", false, d -> tokens.withDeadline(d).createApiKey(params.toProto())));
  }

  /** The first page (50 keys) of the caller's own tenant. Retried when safe. */
  public ApiKeyPage listApiKeys() {
    return listApiKeys("", 0, "");
  }

  /**
   * One page of a tenant's API keys, oldest first. Retried when safe.
   *
   * @param tenantId the tenant; empty means the caller's own
   * @param pageSize at most this many keys; 0 means 50
   * @param pageToken the previous page's {@link ApiKeyPage#nextPageToken()}, or empty for the first
   */
  public ApiKeyPage listApiKeys(String tenantId, int pageSize, String pageToken) {
    ListApiKeysRequest request =
        ListApiKeysRequest.newBuilder().setTenantId(tenantId).setPageSize(pageSize).setPageToken(pageToken).build();
    return new ApiKeyPage(call("ListApiKeys", true, d -> tokens.withDeadline(d).listApiKeys(request)));
  }

  /** Revokes an API key and every unredeemed session it minted; returns when it was revoked. */
  public Instant revokeApiKey(String apiKeyId) {
    return revoke(RevokeRequest.newBuilder().setApiKeyId(apiKeyId).build());
  }

  /** Revokes a session by its id; returns when it was revoked. */
  public Instant revokeSession(String sessionId) {
    return revoke(RevokeRequest.newBuilder().setSessionId(sessionId).build());
  }

  /** Revokes the session of a token; returns when it was revoked. */
  public Instant revokeToken(String token) {
    return revoke(RevokeRequest.newBuilder().setToken(token).build());
  }

  private Instant revoke(RevokeRequest request) {
    // Revoking twice returns the first time, so a repeat would be harmless; it is still a write,
    // and the contract names only reads as safe to repeat.
    RevokeResponse r = call("Revoke", false, d -> tokens.withDeadline(d).revoke(request), request.getToken());
    return ProtoTime.instant(r.getRevokeTime());
  }

  /** The public keys that verify session tokens. Retried when safe. */
  public JsonWebKeySet getJwks() {
    return new JsonWebKeySet(call("GetJwks", true, d -> tokens.withDeadline(d).getJwks(GetJwksRequest.getDefaultInstance())));
  }

  /** Creates a tenant (scope {@code admin}); unset status and subscription mean ACTIVE. Never retried. */
  public TenantInfo createTenant(String id, TenantParams params) {
    CreateTenantRequest request = CreateTenantRequest.newBuilder().setTenant(params.toProto(id)).build();
    return new TenantInfo(call("CreateTenant", false, d -> tenants.withDeadline(d).createTenant(request)).getTenant());
  }

  /** A tenant by id (scope {@code admin}). Retried when safe. */
  public TenantInfo getTenant(String id) {
    GetTenantRequest request = GetTenantRequest.newBuilder().setId(id).build();
    return new TenantInfo(call("GetTenant", true, d -> tenants.withDeadline(d).getTenant(request)).getTenant());
  }

  /**
   * Changes the fields set in {@code params}, and only those (scope {@code admin}). Never retried.
   *
   * @throws IllegalArgumentException when {@code params} sets no field
   */
  public TenantInfo updateTenant(String id, TenantParams params) {
    if (params.isEmpty()) {
      throw new IllegalArgumentException("name at least one field to update");
    }
    UpdateTenantRequest request =
        UpdateTenantRequest.newBuilder().setTenant(params.toProto(id)).setUpdateMask(params.updateMask()).build();
    return new TenantInfo(call("UpdateTenant", false, d -> tenants.withDeadline(d).updateTenant(request)).getTenant());
  }

  /** One page of tenants, ordered by id (scope {@code admin}); 0 means 50 per page. Retried when safe. */
  public TenantPage listTenants(int pageSize, String pageToken) {
    ListTenantsRequest request = ListTenantsRequest.newBuilder().setPageSize(pageSize).setPageToken(pageToken).build();
    return new TenantPage(call("ListTenants", true, d -> tenants.withDeadline(d).listTenants(request)));
  }

  /** Makes a new signing key active (scope {@code admin}). Never retried. */
  public SigningKeyRotation rotateSigningKey() {
    return new SigningKeyRotation(
        call("RotateSigningKey", false, d -> tenants.withDeadline(d).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance())));
  }

  /**
   * Runs one call within one overall deadline, repeating it while the retry policy allows when
   * it is safe to repeat.
   *
   * @param sentSecrets secrets the request carries (a token), to keep out of any error text
   */
  private <T> T call(String method, boolean safeToRepeat, Function<Deadline, T> attempt, String... sentSecrets) {
    // A caller inside a gRPC call of its own (or any Context with a deadline) has that deadline
    // too: no retry is planned past it, and a cancelled caller is not retried for.
    Context context = Context.current();
    Deadline callDeadline = Deadline.after(deadline.toNanos(), TimeUnit.NANOSECONDS);
    if (context.getDeadline() != null) {
      callDeadline = callDeadline.minimum(context.getDeadline());
    }
    for (int attempts = 1; ; attempts++) {
      try {
        return attempt.apply(callDeadline);
      } catch (StatusRuntimeException e) {
        TokenAuthorityException error = ErrorDecoder.decode(e, secrets(sentSecrets));
        Optional<Duration> delay =
            safeToRepeat ? retryPolicy.delayBeforeRetry(attempts, error, random.getAsDouble()) : Optional.empty();
        if (delay.isEmpty()
            || context.isCancelled()
            || delay.get().compareTo(Duration.ofNanos(callDeadline.timeRemaining(TimeUnit.NANOSECONDS))) >= 0) {
          throw error;
        }
        log.debug(
            "{} failed with {}; attempt {} of {} in {} ms",
            method, error.headline(), attempts + 1, retryPolicy.maxAttempts(), delay.get().toMillis());
        try {
          sleeper.sleep(delay.get());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw error;
        }
        if (context.isCancelled()) {
          throw error;
        }
      }
    }
  }

  /** Sleeps for {@code duration}, or until the caller's Context is cancelled (its deadline passes). */
  private static void sleepUnlessCancelled(Duration duration) throws InterruptedException {
    Context context = Context.current();
    CountDownLatch cancelled = new CountDownLatch(1);
    Context.CancellationListener wake = c -> cancelled.countDown();
    context.addListener(wake, Runnable::run);
    try {
      cancelled.await(duration.toNanos(), TimeUnit.NANOSECONDS);
    } finally {
      context.removeListener(wake);
    }
  }

  private List<String> secrets(String... sentSecrets) {
    List<String> all = new ArrayList<>(sentSecrets.length + 1);
    all.add(apiKey);
    for (String s : sentSecrets) {
      if (s != null && !s.isEmpty()) {
        all.add(s);
      }
    }
    return all;
  }

  /** Shuts down the channel if this client created it, waiting up to 5 s for calls in flight. */
  @Override
  public void close() {
    if (ownedChannel == null) {
      return;
    }
    ownedChannel.shutdown();
    try {
      if (!ownedChannel.awaitTermination(5, TimeUnit.SECONDS)) {
        ownedChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      ownedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "TokenAuthorityClient[" + description + ", deadline=" + deadline + "]";
  }

  /**
   * Options of a {@link TokenAuthorityClient}: where the authority is (a target, or a channel
   * you manage), the API key, TLS (the default for a target) or plaintext, the deadline of each
   * call and the retry policy.
   */
  public static final class Builder {
    private String target;
    private Channel channel;
    private String apiKey;
    private boolean plaintext;
    private boolean tlsOptionSet;
    private Path trustRoots;
    private Path clientCertChain;
    private Path clientPrivateKey;
    private ChannelCredentials channelCredentials;
    private Duration deadline = DEFAULT_DEADLINE;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private Sleeper sleeper = TokenAuthorityClient::sleepUnlessCancelled;
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

    private Builder() {}

    /** The authority's address, {@code host:port} (or any gRPC target URI); the client owns its channel. */
    public Builder target(String target) {
      this.target = Objects.requireNonNull(target, "target");
      return this;
    }

    /** A channel you built and will shut down yourself (the client never closes it). */
    public Builder channel(Channel channel) {
      this.channel = Objects.requireNonNull(channel, "channel");
      return this;
    }

    /** The API key's secret, sent as {@code authorization: Bearer <secret>} on every call. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /** No TLS: only for a sidecar on localhost or inside a trusted network. */
    public Builder plaintext() {
      this.plaintext = true;
      return this;
    }

    /** TLS with the JDK's trusted roots (the default for a target). */
    public Builder tls() {
      this.tlsOptionSet = true;
      return this;
    }

    /** TLS trusting the CA certificates in this PEM file instead of the JDK's roots. */
    public Builder tls(Path trustRootsPem) {
      this.trustRoots = Objects.requireNonNull(trustRootsPem, "trustRootsPem");
      this.tlsOptionSet = true;
      return this;
    }

    /** TLS with a client certificate (mutual TLS): a PEM certificate chain and its PEM PKCS#8 private key. */
    public Builder clientCertificate(Path certChainPem, Path privateKeyPem) {
      this.clientCertChain = Objects.requireNonNull(certChainPem, "certChainPem");
      this.clientPrivateKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      this.tlsOptionSet = true;
      return this;
    }

    /** Any channel credentials, for setups the other options do not cover. */
    public Builder channelCredentials(ChannelCredentials credentials) {
      this.channelCredentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * The deadline of each call, retries included (default 10 s, at most a day). A call made in
     * a gRPC Context whose deadline comes sooner ends by that one.
     */
    public Builder deadline(Duration deadline) {
      if (deadline.isNegative() || deadline.isZero() || deadline.compareTo(MAX_DEADLINE) > 0) {
        throw new IllegalArgumentException("the deadline must be positive and at most a day, not " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /** How calls that are safe to repeat are retried (default {@link RetryPolicy#defaults()}). */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    Builder sleeper(Sleeper sleeper) {
      this.sleeper = sleeper;
      return this;
    }

    Builder random(DoubleSupplier random) {
      this.random = random;
      return this;
    }

    /**
     * @throws IllegalStateException when the options contradict each other or the API key is missing
     * @throws UncheckedIOException when a TLS file cannot be read
     */
    public TokenAuthorityClient build() {
      if (apiKey == null || apiKey.isBlank()) {
        throw new IllegalStateException("an API key is required");
      }
      // Before any channel exists, so a malformed key leaves nothing to shut down.
      ApiKeyCredentials credentials = new ApiKeyCredentials(apiKey);
      if ((target == null) == (channel == null)) {
        throw new IllegalStateException("give either a target or a channel");
      }
      if (channel != null) {
        if (plaintext || tlsOptionSet || channelCredentials != null) {
          throw new IllegalStateException("TLS and plaintext apply to a target; a given channel has its own");
        }
        return new TokenAuthorityClient(this, credentials, channel, null);
      }
      int transports = (plaintext ? 1 : 0) + (tlsOptionSet ? 1 : 0) + (channelCredentials != null ? 1 : 0);
      if (transports > 1) {
        throw new IllegalStateException("choose one of plaintext, TLS or channel credentials");
      }
      ManagedChannel created;
      try {
        created = Grpc.newChannelBuilder(target, credentials()).userAgent("token-authority-client").build();
      } catch (ManagedChannelRegistry.ProviderNotFoundException e) {
        if (!tlsOptionSet) {
          throw e;
        }
        // grpc found no transport that takes these credentials: Netty could not make a TLS
        // context of the files (a key that is not a PEM private key, or one of another certificate).
        throw new IllegalArgumentException("cannot set up TLS with the given certificate and key files: " + e.getMessage(), e);
      }
      return new TokenAuthorityClient(this, credentials, created, created);
    }

    private ChannelCredentials credentials() {
      if (plaintext) {
        return InsecureChannelCredentials.create();
      }
      if (channelCredentials != null) {
        return channelCredentials;
      }
      TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
      try {
        if (trustRoots != null) {
          requireCertificates(trustRoots);
          tls.trustManager(trustRoots.toFile());
        }
        if (clientCertChain != null) {
          requireCertificates(clientCertChain);
          tls.keyManager(clientCertChain.toFile(), clientPrivateKey.toFile());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read a TLS certificate or key file", e);
      }
      return tls.build();
    }

    /** Fails, naming the file, unless it holds PEM certificates (read when the channel connects otherwise). */
    private static void requireCertificates(Path pem) throws IOException {
      try (InputStream in = Files.newInputStream(pem)) {
        if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
          throw new IOException(pem + " holds no certificate");
        }
      } catch (CertificateException e) {
        throw new IOException(pem + " is not a PEM certificate file: " + e.getMessage(), e);
      }
    }
  }
}
