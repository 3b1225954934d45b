package dev.tokenauthority.server.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Empty;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.grpc.ApiKeyAuthInterceptor;
import dev.tokenauthority.server.testing.InProcessAuthority;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The method table against what the server really serves, and what a caller notices of it. */
class MethodTableTest {

  @Test
  void everyServedMethod_hasExactlyOneEntry_andNoEntryIsForAnUnservedMethod() throws Exception {
    try (InProcessAuthority ta = InProcessAuthority.start()) {
      TokenAuthorityServer server =
          new TokenAuthorityServer(InProcessServerBuilder.forName("table-" + System.nanoTime()), ta.authority(), Duration.ofHours(1));
      List<String> served =
          server.services().stream()
              .flatMap(s -> s.getMethods().stream())
              .map(m -> m.getMethodDescriptor().getFullMethodName())
              .sorted()
              .collect(Collectors.toList());
      List<String> described = MethodTable.all().stream().map(RpcMethod::fullName).sorted().collect(Collectors.toList());

      assertThat(described).containsExactlyElementsOf(served);
    }
  }

  @Test
  void find_tokenAuthorityMethods_needTheScopesOfTheContract() {
    assertThat(access("tokenauthority.v1.TokenAuthority/MintSession")).isEqualTo(new Access.Scope(Scopes.SESSIONS_MINT));
    assertThat(access("tokenauthority.v1.TokenAuthority/Redeem")).isEqualTo(new Access.Scope(Scopes.SESSIONS_REDEEM));
    assertThat(access("tokenauthority.v1.TokenAuthority/Introspect")).isEqualTo(new Access.Scope(Scopes.SESSIONS_REDEEM));
    assertThat(access("tokenauthority.v1.TokenAuthority/CreateApiKey")).isEqualTo(new Access.Scope(Scopes.KEYS_WRITE));
    assertThat(access("tokenauthority.v1.TokenAuthority/ListApiKeys")).isEqualTo(new Access.Scope(Scopes.KEYS_READ));
    assertThat(access("tokenauthority.v1.TokenAuthority/GetJwks")).isInstanceOf(Access.AnyKey.class);
    assertThat(access("tokenauthority.v1.TokenAuthority/Revoke")).isInstanceOf(Access.ByTarget.class);
    assertThat(MethodTable.all())
        .filteredOn(m -> m.serviceName().equals(MethodTable.TENANT_ADMIN))
        .allSatisfy(m -> assertThat(m.access()).isEqualTo(new Access.Scope(Scopes.ADMIN)));
    assertThat(MethodTable.all())
        .filteredOn(m -> m.serviceName().startsWith("grpc."))
        .allSatisfy(m -> assertThat(m.access().needsKey()).isFalse());
  }

  @Test
  void find_onlyMintSession_carriesRateLimitHeaders() {
    assertThat(MethodTable.all()).filteredOn(RpcMethod::rateLimitHeaders)
        .extracting(RpcMethod::fullName).containsExactly("tokenauthority.v1.TokenAuthority/MintSession");
  }

  @Test
  void revokeAccess_keyTargetNeedsKeysWrite_sessionTargetsNeedSessionsMint() {
    Caller minter = caller(Scopes.SESSIONS_MINT);

    MethodTable.REVOKE_ACCESS.requireFor(minter, "session_id");
    MethodTable.REVOKE_ACCESS.requireFor(minter, "token");
    AuthorityException e =
        catchThrowableOfType(() -> MethodTable.REVOKE_ACCESS.requireFor(minter, "api_key_id"), AuthorityException.class);

    assertThat(e.reason()).isEqualTo(ErrorReason.SCOPE_NOT_GRANTED);
    MethodTable.REVOKE_ACCESS.requireFor(caller(Scopes.KEYS_WRITE), "api_key_id");
  }

  @Test
  void call_ofAMethodMissingFromTheTable_isRefusedEvenForAnAdmin() throws Exception {
    MethodDescriptor<Empty, Empty> undescribed =
        MethodDescriptor.<Empty, Empty>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodTable.TOKEN_AUTHORITY + "/Undescribed")
            .setRequestMarshaller(ProtoUtils.marshaller(Empty.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(Empty.getDefaultInstance()))
            .build();
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(MethodTable.TOKEN_AUTHORITY)
            .addMethod(ServerMethodDefinition.create(undescribed, ServerCalls.asyncUnaryCall((req, out) -> {
              out.onNext(Empty.getDefaultInstance());
              out.onCompleted();
            })))
            .build();
    String name = "undescribed-" + System.nanoTime();
    try (InProcessAuthority ta = InProcessAuthority.start()) {
      Server server =
          InProcessServerBuilder.forName(name).directExecutor()
              .addService(ServerInterceptors.intercept(
                  service, new ApiKeyAuthInterceptor(ta.authority().apiKeys(), ta.authority().tenants())))
              .build()
              .start();
      ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
      try {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ta.adminSecret());
        StatusRuntimeException e =
            catchThrowableOfType(
                () -> ClientCalls.blockingUnaryCall(
                    io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                    undescribed, io.grpc.CallOptions.DEFAULT, Empty.getDefaultInstance()),
                StatusRuntimeException.class);

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
      } finally {
        channel.shutdownNow();
        server.shutdownNow();
      }
    }
  }

  private static Access access(String fullName) {
    return MethodTable.find(fullName).orElseThrow().access();
  }

  private static Caller caller(String... scopes) {
    return new Caller("key_test", "t", List.of(scopes), List.of(), null);
  }
}
