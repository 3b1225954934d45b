package dev.tokenauthority.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tokenauthority.contract.SessionTokens;
import dev.tokenauthority.server.apikey.ApiKeySecrets;
import dev.tokenauthority.server.grpc.ErrorMapper;
import dev.tokenauthority.server.signing.SessionTokenCodec;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.RawBytes;
import dev.tokenauthority.v1.RedeemRequest;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzz targets (Jazzer) for what reads untrusted input: a request body of every shape through
 * the whole server (parsing, the request validators, the context Struct), a session token
 * through Redeem and the codec, and an API-key secret through its parser. Whatever the input,
 * the answer is OK or a refusal with an ErrorInfo; never UNKNOWN or INTERNAL, never an
 * exception out of a parser.
 *
 * <p>{@code ./mvnw test} runs each target on its seed corpus (the inputs that once broke the
 * server are there) as ordinary tests; {@code JAZZER_FUZZ=1} fuzzes one target for real (see
 * docs/hardening.md).
 */
class RequestFuzzTest {
  private static final Set<Status.Code> NEVER = Set.of(Status.Code.UNKNOWN, Status.Code.INTERNAL);
  private static final InProcessAuthority TA = InProcessAuthority.start();
  private static final String KEY = TA.createKey("sessions:mint", "sessions:redeem", "keys:read", "keys:write");
  private static final ApiKeySecrets SECRETS = new ApiKeySecrets("sk_");

  @AfterAll
  static void stop() throws Exception {
    TA.close();
  }

  /** Any bytes as the body of MintSession, CreateApiKey and ListApiKeys. */
  @FuzzTest(maxDuration = "30s")
  void requestBody_anyBytes_isAnsweredWithAReason(byte[] body) {
    for (String method : new String[] {"MintSession", "CreateApiKey", "ListApiKeys", "Introspect"}) {
      assertAnsweredWithReason(method, body);
    }
  }

  /** Any string as the token of Redeem, and through the codec's unverified peek. */
  @FuzzTest(maxDuration = "30s")
  void redeem_anyToken_isAnsweredWithAReason(FuzzedDataProvider data) {
    String token = data.consumeRemainingAsString();
    assertAnsweredWithReason("Redeem", RedeemRequest.newBuilder().setToken(token).build().toByteArray());
    SessionTokenCodec.peekSessionId(token);
    SessionTokenCodec.peekClaim(token, SessionTokens.TENANT_CLAIM);
  }

  /** Any string as an API-key secret: the parser answers, never throws. */
  @FuzzTest(maxDuration = "30s")
  void apiKeySecret_anyString_isJudgedWithoutThrowing(FuzzedDataProvider data) {
    String secret = data.consumeRemainingAsString();
    boolean wellFormed = SECRETS.isWellFormed(secret);
    if (SECRETS.hasGeneratedShape(secret)) {
      assertThat(SECRETS.hasPrefix(secret)).isTrue();
    }
    if (wellFormed) {
      assertThat(SECRETS.hint(secret)).isNotEmpty();
    }
  }

  private static void assertAnsweredWithReason(String method, byte[] body) {
    MethodDescriptor<byte[], byte[]> descriptor = RawBytes.unary("tokenauthority.v1.TokenAuthority/" + method);
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + KEY);
    try {
      ClientCalls.blockingUnaryCall(
          ClientInterceptors.intercept(TA.channel(), MetadataUtils.newAttachHeadersInterceptor(headers)),
          descriptor, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), body);
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).as("%s: %s", method, e.getStatus()).isNotIn(NEVER);
      assertThat(ErrorMapper.reasonOf(e.getStatus(), e.getTrailers())).as("%s: %s", method, e.getStatus()).isNotNull();
    }
  }
}
