package dev.tokenauthority.server.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.http.HttpGateway;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import com.google.protobuf.FieldMask;
import dev.tokenauthority.v1.TenantAdminGrpc;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import dev.tokenauthority.v1.UpdateTenantRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * A token authority served in-process for one test: a store, an {@link Authority} on a
 * {@link TestClock}, a started {@link TokenAuthorityServer}, a bootstrapped admin key and
 * authenticated blocking stubs; close it after the test.
 */
public final class InProcessAuthority implements AutoCloseable {
  /** The ErrorInfo domain of every failure of the v1 contract. */
  public static final String DOMAIN = "tokenauthority";
  /** Long enough that the background purge never runs during a test. */
  private static final Duration PURGE_INTERVAL = Duration.ofHours(1);
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** Shorter strings are too likely to occur in a message by chance to be checked for. */
  private static final int MIN_SECRET_CHECKED = 20;
  private static final AtomicInteger SERVER_NAMES = new AtomicInteger();

  private final TestClock clock;
  private final Store store;
  private final Authority authority;
  private final TokenAuthorityServer server;
  private final ManagedChannel channel;
  private final String adminSecret;
  /** Every API key secret and session token this fixture saw, to check messages never echo one. */
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger keyNames = new AtomicInteger();

  private InProcessAuthority(Builder b) {
    this.clock = b.clock;
    this.store = b.store != null ? b.store : new MemoryStore();
    this.authority = new Authority(store, b.settings, clock);
    String name = "token-authority-test-" + SERVER_NAMES.incrementAndGet();
    InProcessServerBuilder serverBuilder = InProcessServerBuilder.forName(name);
    InProcessChannelBuilder channelBuilder = InProcessChannelBuilder.forName(name);
    if (b.directExecutor) {
      serverBuilder.directExecutor();
      channelBuilder.directExecutor();
    }
    this.server = new TokenAuthorityServer(serverBuilder, authority, PURGE_INTERVAL, b.metrics, b.audit, b.http);
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.channel = channelBuilder.intercept(new SecretRecorder()).build();
    this.adminSecret =
        authority.ensureAdminKey(java.util.Optional.empty())
            .orElseThrow(() -> new IllegalStateException("the store already had an admin key"));
    secrets.add(adminSecret);
  }

  /** A fixture on a new memory store, with default settings and direct executors. */
  public static InProcessAuthority start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options of an {@link InProcessAuthority}; each has a default. */
  public static final class Builder {
    private Store store;
    private Authority.Settings settings = Authority.Settings.defaults();
    private TestClock clock = new TestClock();
    private boolean directExecutor = true;
    private Metrics metrics;
    private AuditLog audit;
    private HttpGateway.Settings http;

    private Builder() {}

    /** Also serves the HTTP/JSON port, on a free port of the loopback, with these settings. */
    public Builder http(HttpGateway.Settings http) {
      this.http = http;
      return this;
    }

    /** Measures every call into these metrics. */
    public Builder metrics(Metrics metrics) {
      this.metrics = metrics;
      return this;
    }

    /** Audits every call into this log. */
    public Builder audit(AuditLog audit) {
      this.audit = audit;
      return this;
    }

    /** Serves this store instead of a new {@link MemoryStore}. */
    public Builder store(Store store) {
      this.store = store;
      return this;
    }

    public Builder settings(Authority.Settings settings) {
      this.settings = settings;
      return this;
    }

    public Builder clock(TestClock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Whether server and channel run calls on the calling thread (the default, fast and
     * deterministic); false gives the server a thread pool, for tests of real concurrency.
     */
    public Builder directExecutor(boolean directExecutor) {
      this.directExecutor = directExecutor;
      return this;
    }

    public InProcessAuthority start() {
      return new InProcessAuthority(this);
    }
  }

  /** The HTTP/JSON port; -1 unless the builder asked for one. */
  public int httpPort() {
    return server.httpPort();
  }

  public TestClock clock() {
    return clock;
  }

  public Store store() {
    return store;
  }

  public Authority authority() {
    return authority;
  }

  public ManagedChannel channel() {
    return channel;
  }

  /** The secret of the bootstrapped admin key (scope {@code admin}, tenant {@code default}). */
  public String adminSecret() {
    return adminSecret;
  }

  /** A stub that sends {@code authorization: Bearer <secret>}. */
  public TokenAuthorityBlockingStub stub(String secret) {
    remember(secret);
    return withAuthorization("Bearer " + secret);
  }

  /** A stub authenticated with the admin key. */
  public TokenAuthorityBlockingStub admin() {
    return stub(adminSecret);
  }

  /** A stub that sends {@code authorization} with exactly this value. */
  public TokenAuthorityBlockingStub withAuthorization(String headerValue) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, headerValue);
    return TokenAuthorityGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** A TenantAdmin stub authenticated with {@code secret}. */
  public TenantAdminGrpc.TenantAdminBlockingStub tenantAdmin(String secret) {
    remember(secret);
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + secret);
    return TenantAdminGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** A TenantAdmin stub authenticated with the admin key. */
  public TenantAdminGrpc.TenantAdminBlockingStub tenantAdmin() {
    return tenantAdmin(adminSecret);
  }

  /** Changes fields of a tenant as the admin, through UpdateTenant with a mask of exactly those fields. */
  public dev.tokenauthority.v1.Tenant updateTenant(dev.tokenauthority.v1.Tenant changes, String... paths) {
    return tenantAdmin()
        .updateTenant(UpdateTenantRequest.newBuilder()
            .setTenant(changes)
            .setUpdateMask(FieldMask.newBuilder().addAllPaths(Arrays.asList(paths)))
            .build())
        .getTenant();
  }

  /** A stub that sends no {@code authorization} header at all. */
  public TokenAuthorityBlockingStub anonymous() {
    return TokenAuthorityGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** Creates a key in the {@code default} tenant with these scopes (as the admin) and returns its secret. */
  public String createKey(String... scopes) {
    return createKeyIn(Tenant.DEFAULT_ID, scopes);
  }

  /** Creates a key in {@code tenantId} with these scopes (as the admin) and returns its secret. */
  public String createKeyIn(String tenantId, String... scopes) {
    return createKey(
            CreateApiKeyRequest.newBuilder()
                .setTenantId(tenantId)
                .setName("test key " + keyNames.incrementAndGet())
                .addAllScopes(Arrays.asList(scopes))
                .build())
        .getSecret();
  }

  /** Creates a key as the admin. */
  public CreateApiKeyResponse createKey(CreateApiKeyRequest request) {
    return admin().createApiKey(request);
  }

  /** Inserts an active tenant with the default policy straight into the store. */
  public String createTenant(String id) {
    if (!store.tenants().insertTenant(Tenant.newDefault(id, "Tenant " + id, clock.instant()))) {
      throw new IllegalStateException("tenant " + id + " exists already");
    }
    return id;
  }

  /** Mints a session for {@code externalUserId} with the key {@code secret} and defaults otherwise. */
  public MintSessionResponse mint(String secret, String externalUserId) {
    return mint(secret, MintSessionRequest.newBuilder().setExternalUserId(externalUserId).build());
  }

  public MintSessionResponse mint(String secret, MintSessionRequest request) {
    return stub(secret).mintSession(request);
  }

  /** The ErrorInfo of a failed call; fails the test when there is none. */
  public static ErrorInfo errorInfo(StatusRuntimeException e) {
    return detail(e, ErrorInfo.class);
  }

  /** The BadRequest of a failed call; fails the test when there is none. */
  public static BadRequest badRequest(StatusRuntimeException e) {
    return detail(e, BadRequest.class);
  }

  /** The fields named by the BadRequest of a failed call, in order. */
  public static List<String> violationFields(StatusRuntimeException e) {
    return badRequest(e).getFieldViolationsList().stream().map(BadRequest.FieldViolation::getField).toList();
  }

  public static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("google.rpc.Status of %s", e.getStatus()).isNotNull();
    List<T> found = new ArrayList<>();
    for (Any any : status.getDetailsList()) {
      if (any.is(type)) {
        try {
          found.add(any.unpack(type));
        } catch (InvalidProtocolBufferException ex) {
          throw new AssertionError("a detail does not parse as " + type.getSimpleName(), ex);
        }
      }
    }
    assertThat(found).as("%s details of %s", type.getSimpleName(), e.getStatus()).hasSize(1);
    return found.get(0);
  }

  /**
   * Runs a call that must fail with this gRPC code and ErrorInfo reason (domain
   * {@code tokenauthority}), and whose message and details contain no secret or token this
   * fixture has seen.
   *
   * @return the failure, for further checks
   */
  public StatusRuntimeException assertFails(Status.Code code, String reason, ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).as("expected %s %s", code, reason).isInstanceOf(StatusRuntimeException.class);
    StatusRuntimeException e = (StatusRuntimeException) thrown;
    assertThat(e.getStatus().getCode()).as("code of %s", e.getStatus()).isEqualTo(code);
    ErrorInfo info = errorInfo(e);
    assertThat(info.getDomain()).isEqualTo(DOMAIN);
    assertThat(info.getReason()).as("reason of %s", e.getStatus()).isEqualTo(reason);
    assertNoSecretIn(e);
    return e;
  }

  /** Fails when the failure's message or details contain any secret or token this fixture saw. */
  public void assertNoSecretIn(StatusRuntimeException e) {
    StringBuilder text = new StringBuilder(String.valueOf(e.getStatus().getDescription()));
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      text.append('\n').append(status.getMessage());
      for (Any any : status.getDetailsList()) {
        text.append('\n').append(any.getValue().toStringUtf8());
      }
    }
    String all = text.toString();
    for (String secret : secrets) {
      assertThat(all).as("error text of %s", e.getStatus().getCode()).doesNotContain(secret);
    }
  }

  /** Adds a string that no error message may ever contain. */
  public void remember(String secret) {
    if (secret != null && secret.length() >= MIN_SECRET_CHECKED) {
      secrets.add(secret);
    }
  }

  @Override
  public synchronized void close() throws InterruptedException {
    // Idempotent: a test that closes early to read what closing flushes is closed again after it,
    // and stopping the server twice makes gRPC's health service log a warning with a stack trace.
    if (closed) {
      return;
    }
    closed = true;
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.stop(Duration.ofSeconds(1));
    store.close();
  }

  private boolean closed;

  /** Remembers every secret and token that goes over the channel, in either direction. */
  private final class SecretRecorder implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onMessage(RespT message) {
                  if (message instanceof CreateApiKeyResponse r) {
                    remember(r.getSecret());
                  } else if (message instanceof MintSessionResponse r) {
                    remember(r.getToken());
                  }
                  super.onMessage(message);
                }
              },
              headers);
        }

        @Override
        public void sendMessage(ReqT message) {
          if (message instanceof RedeemRequest r) {
            remember(r.getToken());
          } else if (message instanceof IntrospectRequest r) {
            remember(r.getToken());
          } else if (message instanceof RevokeRequest r) {
            remember(r.getToken());
          }
          super.sendMessage(message);
        }
      };
    }
  }
}
