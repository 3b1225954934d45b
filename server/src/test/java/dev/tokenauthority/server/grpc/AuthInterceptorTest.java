package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.tokenauthority.server.apikey.ApiKeySecrets;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import dev.tokenauthority.v1.TokenAuthorityGrpc.TokenAuthorityBlockingStub;
import io.grpc.Status.Code;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Authentication and per-method scopes of every TokenAuthority RPC, and the open health and reflection services. */
class AuthInterceptorTest {
  private InProcessAuthority ta;

  @BeforeEach
  void setUp() {
    ta = InProcessAuthority.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  /** One call of every TokenAuthority method, with a request that would be fine if authorised. */
  static Stream<Arguments> everyMethod() {
    return Stream.of(
        Arguments.of("MintSession", (Consumer<TokenAuthorityBlockingStub>) s -> s.mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").build())),
        Arguments.of("Redeem", (Consumer<TokenAuthorityBlockingStub>) s -> s.redeem(RedeemRequest.newBuilder().setToken("x").build())),
        Arguments.of("Introspect", (Consumer<TokenAuthorityBlockingStub>) s -> s.introspect(IntrospectRequest.newBuilder().setToken("x").build())),
        Arguments.of("CreateApiKey", (Consumer<TokenAuthorityBlockingStub>) s -> s.createApiKey(CreateApiKeyRequest.newBuilder().setName("n").addScopes("sessions:mint").build())),
        Arguments.of("ListApiKeys", (Consumer<TokenAuthorityBlockingStub>) s -> s.listApiKeys(ListApiKeysRequest.getDefaultInstance())),
        Arguments.of("Revoke", (Consumer<TokenAuthorityBlockingStub>) s -> s.revoke(RevokeRequest.newBuilder().setSessionId("ses_x").build())),
        Arguments.of("GetJwks", (Consumer<TokenAuthorityBlockingStub>) s -> s.getJwks(GetJwksRequest.getDefaultInstance())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyMethod")
  void anyMethod_noAuthorizationHeader_isApiKeyRequired(String method, Consumer<TokenAuthorityBlockingStub> call) {
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REQUIRED", () -> call.accept(ta.anonymous()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyMethod")
  void anyMethod_garbageBearer_isApiKeyInvalid(String method, Consumer<TokenAuthorityBlockingStub> call) {
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> call.accept(ta.withAuthorization("Bearer not-a-key-at-all-but-long-enough-to-check")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Basic x", "Basic dXNlcjpwYXNzd29yZA==", "garbage", "Bearer", "Bearer ", "Token sk_abc"})
  void getJwks_malformedAuthorization_isApiKeyInvalid(String header) {
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> ta.withAuthorization(header).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_blankAuthorization_isApiKeyRequired() {
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REQUIRED", () -> ta.withAuthorization("  ").getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_basicSchemeWithRealSecret_isApiKeyInvalid() {
    String secret = ta.createKey("sessions:redeem");
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> ta.withAuthorization("Basic " + secret).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_lowercaseBearerScheme_isAccepted() {
    String secret = ta.createKey("sessions:redeem");
    assertThat(ta.withAuthorization("bearer " + secret).getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isPositive();
  }

  @Test
  void getJwks_secretWithWrongChecksum_isApiKeyInvalid() {
    String secret = ta.createKey("sessions:redeem");
    // Change one checksum character: same shape, same alphabet, wrong CRC.
    char last = secret.charAt(secret.length() - 1);
    String typo = secret.substring(0, secret.length() - 1) + (last == 'a' ? 'b' : 'a');
    ta.remember(typo);
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> ta.stub(typo).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_secretWithTypoInBody_isApiKeyInvalid() {
    String secret = ta.createKey("sessions:redeem");
    char c = secret.charAt(10);
    String typo = secret.substring(0, 10) + (c == 'Q' ? 'R' : 'Q') + secret.substring(11);
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> ta.stub(typo).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_unknownWellFormedKey_isApiKeyInvalid() {
    ApiKeySecrets format = new ApiKeySecrets("sk_");
    String unknown = format.generate();
    assertThat(format.isWellFormed(unknown)).isTrue();
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> ta.stub(unknown).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_revokedKey_isApiKeyRevoked() {
    var created = ta.createKey(CreateApiKeyRequest.newBuilder().setName("soon revoked").addScopes("sessions:redeem").build());
    ta.stub(created.getSecret()).getJwks(GetJwksRequest.getDefaultInstance());
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(created.getApiKey().getId()).build());
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> ta.stub(created.getSecret()).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_expiredKey_isApiKeyExpired() {
    Timestamp inAMinute = Timestamp.newBuilder().setSeconds(ta.clock().instant().getEpochSecond() + 60).build();
    String secret =
        ta.createKey(CreateApiKeyRequest.newBuilder().setName("short-lived").addScopes("sessions:redeem").setExpireTime(inAMinute).build())
            .getSecret();
    ta.stub(secret).getJwks(GetJwksRequest.getDefaultInstance());
    ta.clock().advanceSeconds(59);
    ta.stub(secret).getJwks(GetJwksRequest.getDefaultInstance());
    ta.clock().advanceSeconds(1);
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_EXPIRED", () -> ta.stub(secret).getJwks(GetJwksRequest.getDefaultInstance()));
  }

  @Test
  void anyMethod_sessionTokenAsCredential_isApiKeyInvalid() {
    String minter = ta.createKey("sessions:mint", "sessions:redeem", "keys:read", "keys:write");
    String token = ta.mint(minter, "rep_8842").getToken();
    everyMethod().forEach(args -> {
      @SuppressWarnings("unchecked")
      Consumer<TokenAuthorityBlockingStub> call = (Consumer<TokenAuthorityBlockingStub>) args.get()[1];
      ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> call.accept(ta.stub(token)));
    });
    // The token was not consumed by being presented as a credential.
    assertThat(ta.stub(minter).redeem(RedeemRequest.newBuilder().setToken(token).build()).getUsesRemaining()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyMethod")
  void anyMethod_twoAuthorizationHeaders_isApiKeyInvalid(String method, Consumer<TokenAuthorityBlockingStub> call) {
    // A weak key then the admin key: neither may win, whatever order a proxy keeps them in.
    String weak = ta.createKey("chat:write");
    for (List<String> values : List.of(List.of(weak, ta.adminSecret()), List.of(ta.adminSecret(), weak))) {
      ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> call.accept(twoHeaders(values).get()));
    }
  }

  @Test
  void tenantAdmin_twoAuthorizationHeaders_isApiKeyInvalid() {
    String weak = ta.createKey("chat:write");
    io.grpc.Metadata headers = new io.grpc.Metadata();
    headers.put(AUTHORIZATION, "Bearer " + weak);
    headers.put(AUTHORIZATION, "Bearer " + ta.adminSecret());
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID",
        () -> dev.tokenauthority.v1.TenantAdminGrpc.newBlockingStub(ta.channel())
            .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .listTenants(dev.tokenauthority.v1.ListTenantsRequest.getDefaultInstance()));
  }

  @Test
  void getJwks_sameKeyTwice_isApiKeyInvalid() {
    String secret = ta.createKey("sessions:mint");
    ta.assertFails(Code.UNAUTHENTICATED, "API_KEY_INVALID",
        () -> twoHeaders(List.of(secret, secret)).get().getJwks(GetJwksRequest.getDefaultInstance()));
  }

  /** A stub (as a supplier, for the lambdas above) sending one authorization header per secret. */
  private java.util.function.Supplier<TokenAuthorityBlockingStub> twoHeaders(List<String> secrets) {
    io.grpc.Metadata headers = new io.grpc.Metadata();
    for (String s : secrets) {
      headers.put(AUTHORIZATION, "Bearer " + s);
    }
    return () -> TokenAuthorityGrpc.newBlockingStub(ta.channel())
        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static final io.grpc.Metadata.Key<String> AUTHORIZATION =
      io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void mintSession_redeemOnlyKey_isScopeNotGranted() {
    String redeemer = ta.createKey("sessions:redeem");
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.mint(redeemer, "rep_8842"));
  }

  @Test
  void keyMethods_mintOnlyKey_isScopeNotGranted() {
    String minter = ta.createKey("sessions:mint");
    TokenAuthorityBlockingStub stub = ta.stub(minter);
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> stub.createApiKey(CreateApiKeyRequest.newBuilder().setName("n").addScopes("sessions:mint").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> stub.listApiKeys(ListApiKeysRequest.getDefaultInstance()));
  }

  @Test
  void redeemAndIntrospect_mintOnlyKey_isScopeNotGranted() {
    String minter = ta.createKey("sessions:mint");
    String token = ta.mint(minter, "rep_8842").getToken();
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(minter).redeem(RedeemRequest.newBuilder().setToken(token).build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(minter).introspect(IntrospectRequest.newBuilder().setToken(token).build()));
    // Neither refusal consumed the use.
    String redeemer = ta.createKey("sessions:redeem");
    assertThat(ta.stub(redeemer).redeem(RedeemRequest.newBuilder().setToken(token).build()).getSessionId()).isNotEmpty();
  }

  @Test
  void createApiKey_keysReadOnlyKey_isScopeNotGranted() {
    String reader = ta.createKey("keys:read");
    assertThat(ta.stub(reader).listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysCount()).isPositive();
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(reader).createApiKey(CreateApiKeyRequest.newBuilder().setName("n").addScopes("keys:read").build()));
  }

  @Test
  void listApiKeys_keysWriteOnlyKey_isScopeNotGranted() {
    String writer = ta.createKey("keys:write");
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.stub(writer).listApiKeys(ListApiKeysRequest.getDefaultInstance()));
  }

  @Test
  void anyMethod_customScopeOnlyKey_isScopeNotGrantedExceptGetJwks() {
    String custom = ta.createKey("chat:write");
    TokenAuthorityBlockingStub stub = ta.stub(custom);
    everyMethod().forEach(args -> {
      String method = (String) args.get()[0];
      if (method.equals("GetJwks")) {
        return;
      }
      @SuppressWarnings("unchecked")
      Consumer<TokenAuthorityBlockingStub> call = (Consumer<TokenAuthorityBlockingStub>) args.get()[1];
      ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> call.accept(stub));
    });
    assertThat(stub.getJwks(GetJwksRequest.getDefaultInstance()).getKeysCount()).isPositive();
  }

  @Test
  void healthCheck_noAuthorizationHeader_isServing() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ta.channel()).withDeadlineAfter(5, TimeUnit.SECONDS);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService(TokenAuthorityGrpc.SERVICE_NAME).build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void reflectionV1_noAuthorizationHeader_listsServices() throws Exception {
    CompletableFuture<List<String>> services = new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests =
        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(ta.channel())
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
                    services.complete(r.getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList());
                  }

                  @Override
                  public void onError(Throwable t) {
                    services.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    assertThat(services.get(5, TimeUnit.SECONDS)).contains(TokenAuthorityGrpc.SERVICE_NAME, "grpc.health.v1.Health");
  }

  @Test
  void reflectionV1alpha_noAuthorizationHeader_describesTokenAuthority() throws Exception {
    CompletableFuture<io.grpc.reflection.v1alpha.ServerReflectionResponse> response = new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> requests =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(ta.channel())
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(io.grpc.reflection.v1alpha.ServerReflectionResponse r) {
                    response.complete(r);
                  }

                  @Override
                  public void onError(Throwable t) {
                    response.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(
        io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setFileContainingSymbol(TokenAuthorityGrpc.SERVICE_NAME).build());
    requests.onCompleted();
    assertThat(response.get(5, TimeUnit.SECONDS).getFileDescriptorResponse().getFileDescriptorProtoCount()).isPositive();
  }
}
