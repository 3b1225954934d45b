package dev.tokenauthority.server.grpc;

import static dev.tokenauthority.server.testing.InProcessAuthority.badRequest;
import static dev.tokenauthority.server.testing.InProcessAuthority.violationFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tokenauthority.server.apikey.ApiKeySecrets;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestStore;
import dev.tokenauthority.server.testing.TokenParts;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.Jwk;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** MintSession: the token it signs, TTL and field validation, scopes and origins. */
@ParameterizedClass(name = "{0}")
@EnumSource(TestStore.class)
class MintSessionTest {
  @Parameter TestStore store;
  @TempDir Path dataDir;

  private InProcessAuthority ta;
  private String minter;

  @BeforeEach
  void setUp() {
    ta = authority().start();
    minter = ta.createKey("sessions:mint", "sessions:redeem", "chat:write");
  }

  /** The fixture to test against, on the store of this run. */
  InProcessAuthority.Builder authority() {
    return InProcessAuthority.builder().store(store.open(dataDir));
  }

  @AfterEach
  void tearDown() throws Exception {
    ta.close();
  }

  private static MintSessionRequest.Builder request() {
    return MintSessionRequest.newBuilder().setExternalUserId("rep_8842");
  }

  @Test
  void mintSession_badTtlAndMissingUser_isInvalidTtlNamingBothFields() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL",
            () -> ta.mint(minter, MintSessionRequest.newBuilder().setTtlSeconds(3601).build()));

    assertThat(InProcessAuthority.violationFields(e)).containsExactlyInAnyOrder("ttl_seconds", "external_user_id");
  }

  @Test
  void mintSession_defaults_isEdDsaSessionJwtWithContractClaims() {
    Instant now = ta.clock().instant();
    MintSessionResponse r =
        ta.mint(minter, request()
            .setExternalGroupId("agency_12")
            .setContext(Struct.newBuilder().putFields("persona", Value.newBuilder().setStringValue("persona-7f3a9c").build()))
            .build());

    assertThat(r.getToken().split("\\.", -1)).hasSize(3).allSatisfy(part -> assertThat(part).isNotEmpty());
    TokenParts parts = TokenParts.of(r.getToken());
    Struct header = parts.header();
    assertThat(header.getFieldsMap()).containsOnlyKeys("alg", "typ", "kid");
    assertThat(header.getFieldsOrThrow("alg").getStringValue()).isEqualTo("EdDSA");
    assertThat(header.getFieldsOrThrow("typ").getStringValue()).isEqualTo("session+jwt");
    assertThat(ta.stub(minter).getJwks(GetJwksRequest.getDefaultInstance()).getKeysList())
        .extracting(Jwk::getKid)
        .contains(header.getFieldsOrThrow("kid").getStringValue());

    Struct payload = parts.payload();
    // No aud without an audience, and nothing of the context or the group in the token.
    assertThat(payload.getFieldsMap()).containsOnlyKeys("iss", "sub", "iat", "nbf", "exp", "jti", "tid");
    assertThat(payload.getFieldsOrThrow("iss").getStringValue()).isEqualTo("token-authority");
    assertThat(payload.getFieldsOrThrow("sub").getStringValue()).isEqualTo("rep_8842");
    assertThat(payload.getFieldsOrThrow("tid").getStringValue()).isEqualTo("default");
    assertThat(payload.getFieldsOrThrow("jti").getStringValue()).isEqualTo(r.getSessionId()).startsWith("ses_");
    assertThat((long) payload.getFieldsOrThrow("iat").getNumberValue()).isEqualTo(now.getEpochSecond());
    assertThat((long) payload.getFieldsOrThrow("nbf").getNumberValue()).isEqualTo(now.getEpochSecond());
    assertThat((long) payload.getFieldsOrThrow("exp").getNumberValue()).isEqualTo(now.getEpochSecond() + 300);
    assertThat(parts.payloadJson()).doesNotContain("persona-7f3a9c").doesNotContain("agency_12");
    assertThat(r.getToken()).doesNotContain(TokenParts.encode("persona-7f3a9c").substring(0, 12));
  }

  @Test
  void mintSession_withAudience_hasAudClaim() {
    MintSessionResponse r = ta.mint(minter, request().setAudience("chatbot").build());
    Struct payload = TokenParts.of(r.getToken()).payload();
    assertThat(payload.getFieldsOrThrow("aud").getStringValue()).isEqualTo("chatbot");
  }

  @Test
  void mintSession_noTtl_expiresInDefault300Seconds() {
    Instant now = ta.clock().instant();
    MintSessionResponse r = ta.mint(minter, "rep_8842");
    assertThat(r.getExpiresInSeconds()).isEqualTo(300);
    assertThat(r.getExpireTime().getSeconds()).isEqualTo(now.getEpochSecond() + 300);
  }

  @Test
  void mintSession_subSecondClock_expiresInIsWholeTtl_andTheTokenLivesAtLeastIt() {
    ta.clock().set(Instant.parse("2030-01-01T00:00:00.250Z"));
    MintSessionResponse r = ta.mint(minter, request().setTtlSeconds(60).build());
    assertThat(r.getExpireTime().getSeconds() - Instant.parse("2030-01-01T00:00:00Z").getEpochSecond()).isEqualTo(61);
    assertThat(r.getExpiresInSeconds()).isEqualTo(60);
    assertThat((long) TokenParts.of(r.getToken()).payload().getFieldsOrThrow("iat").getNumberValue())
        .isEqualTo(Instant.parse("2030-01-01T00:00:00Z").getEpochSecond());
  }

  @Test
  void mintSession_ttl1_atTheLastMillisecondOfASecond_redeemsHalfASecondLater() {
    ta.clock().set(Instant.parse("2030-01-01T00:00:00.999Z"));
    MintSessionResponse r = ta.mint(minter, request().setTtlSeconds(1).build());
    assertThat(r.getExpiresInSeconds()).isEqualTo(1);
    ta.clock().advance(java.time.Duration.ofMillis(500));
    assertThat(ta.stub(minter).redeem(RedeemRequest.newBuilder().setToken(r.getToken()).build()).getSessionId())
        .isEqualTo(r.getSessionId());
  }

  @Test
  void mintSession_maxTtl3600_isAccepted() {
    Instant now = ta.clock().instant();
    MintSessionResponse r = ta.mint(minter, request().setTtlSeconds(3600).build());
    assertThat(r.getExpiresInSeconds()).isEqualTo(3600);
    assertThat(r.getExpireTime().getSeconds()).isEqualTo(now.getEpochSecond() + 3600);
    assertThat((long) TokenParts.of(r.getToken()).payload().getFieldsOrThrow("exp").getNumberValue()).isEqualTo(now.getEpochSecond() + 3600);
  }

  @Test
  void mintSession_ttl1_isAccepted() {
    assertThat(ta.mint(minter, request().setTtlSeconds(1).build()).getExpiresInSeconds()).isEqualTo(1);
  }

  @Test
  void mintSession_ttl3601_isInvalidTtlNamingTheRange() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL", () -> ta.mint(minter, request().setTtlSeconds(3601).build()));
    assertThat(violationFields(e)).containsExactly("ttl_seconds");
    assertThat(badRequest(e).getFieldViolations(0).getDescription()).contains("1").contains("3600");
  }

  @ParameterizedTest
  @ValueSource(longs = {-1, -300, Long.MIN_VALUE, Long.MAX_VALUE})
  void mintSession_ttlOutOfRange_isInvalidTtl(long ttl) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_TTL", () -> ta.mint(minter, request().setTtlSeconds(ttl).build()));
    assertThat(violationFields(e)).containsExactly("ttl_seconds");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "   \t  "})
  void mintSession_emptyOrBlankExternalUserId_isInvalidRequest(String id) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setExternalUserId(id).build()));
    assertThat(violationFields(e)).containsExactly("external_user_id");
  }

  @ParameterizedTest
  @ValueSource(strings = {"rep\u00008842", "rep_8842\nINFO forged log line", "rep\u001b[31m"})
  void mintSession_controlCharactersInTextFields_isInvalidRequestNamingEach(String text) {
    StatusRuntimeException e =
        ta.assertFails(
            Code.INVALID_ARGUMENT,
            "INVALID_REQUEST",
            () -> ta.mint(minter, request().setExternalUserId(text).setExternalGroupId(text).setAudience(text).build()));
    assertThat(violationFields(e)).containsExactlyInAnyOrder("external_user_id", "external_group_id", "audience");
  }

  @ParameterizedTest
  @ValueSource(strings = {" rep_8842", "rep_8842 ", "rep_8842\u3000"})
  void mintSession_outerWhitespaceInIdentity_isInvalidRequest_becauseHeadersWouldTrimItIntoAnotherUser(String text) {
    // Envoy's Check passes these as header values, and HTTP trims a value's outer whitespace.
    StatusRuntimeException e =
        ta.assertFails(
            Code.INVALID_ARGUMENT,
            "INVALID_REQUEST",
            () -> ta.mint(minter, request().setExternalUserId(text).setExternalGroupId(text).setAudience(text).build()));
    assertThat(violationFields(e)).containsExactlyInAnyOrder("external_user_id", "external_group_id", "audience");
    assertThat(InProcessAuthority.badRequest(e).getFieldViolationsList())
        .allSatisfy(violation -> assertThat(violation.getDescription()).isEqualTo("must not start or end with whitespace"));
  }

  @Test
  void mintSession_anApiKeySecretAsTheIdentity_isInvalidRequest_soItIsNotCopiedIntoTokensAndAuditLines() {
    // A caller's bug: the key it authenticates with, or another deployment's, sent as the user.
    String otherDeployments = new ApiKeySecrets("live_").generate();
    for (String identity : List.of(minter, "Bearer " + minter, "user:" + otherDeployments, minter + "x7")) {
      StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
          () -> ta.mint(minter, request().setExternalUserId(identity).setExternalGroupId(identity).build()));
      assertThat(violationFields(e)).containsExactlyInAnyOrder("external_user_id", "external_group_id");
      assertThat(e.getStatus().getDescription()).doesNotContain(minter).doesNotContain(otherDeployments);
    }
    // The same shape with a checksum that does not match is nobody's secret: an id like any other.
    String lookalike = minter.substring(0, minter.length() - 1) + (minter.endsWith("A") ? "B" : "A");
    assertThat(ta.mint(minter, request().setExternalUserId(lookalike).build()).getSessionId()).isNotEmpty();
  }

  @Test
  void mintSession_blankGroupId_isInvalidRequest() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setExternalGroupId("  ").build()));
    assertThat(violationFields(e)).containsExactly("external_group_id");
  }

  @Test
  void mintSession_innerSpacesInIdentity_areAccepted() {
    assertThat(ta.mint(minter, request().setExternalUserId("Alex Doe").setExternalGroupId("agency chicago").build()).getSessionId())
        .isNotEmpty();
  }

  @Test
  void mintSession_externalUserId256_isAccepted() {
    assertThat(ta.mint(minter, request().setExternalUserId("u".repeat(256)).build()).getSessionId()).isNotEmpty();
  }

  @Test
  void mintSession_externalUserId256Emoji_mintsATokenThatRedeems() {
    // Each emoji is a surrogate pair; written as two 6-character escapes it made a token longer than Redeem accepts.
    String user = "\uD83D\uDE00".repeat(256);
    String token = ta.mint(minter, request().setExternalUserId(user).build()).getToken();

    assertThat(ta.stub(minter).redeem(RedeemRequest.newBuilder().setToken(token).build()).getExternalUserId()).isEqualTo(user);
  }

  @Test
  void mintSession_externalUserId257_isInvalidRequest() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setExternalUserId("u".repeat(257)).build()));
    assertThat(violationFields(e)).containsExactly("external_user_id");
  }

  @Test
  void mintSession_externalUserIdTooLongAndBlank_hasOneViolationForTheField() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setExternalUserId(" ".repeat(257)).build()));
    assertThat(violationFields(e)).containsExactly("external_user_id");
  }

  @Test
  void mintSession_severalBadFields_isOneViolationPerField() {
    StatusRuntimeException e =
        ta.assertFails(
            Code.INVALID_ARGUMENT,
            "INVALID_REQUEST",
            () -> ta.mint(minter,
                MintSessionRequest.newBuilder()
                    .setExternalUserId("")
                    .setExternalGroupId("g".repeat(257))
                    .setMaxUses(-1)
                    .setOrigin("not an origin")
                    .setContext(contextOf(9 * 1024))
                    .build()));
    assertThat(violationFields(e))
        .containsExactlyInAnyOrder("external_user_id", "external_group_id", "max_uses", "origin", "context");
    assertThat(e.getStatus().getDescription()).doesNotContain("not an origin");
  }

  @Test
  void mintSession_context8KiB_isAccepted() {
    Struct context = contextOf(8 * 1024);
    assertThat(context.getSerializedSize()).isEqualTo(8 * 1024);
    assertThat(ta.mint(minter, request().setContext(context).build()).getSessionId()).isNotEmpty();
  }

  @Test
  void mintSession_contextOver8KiB_isInvalidRequestOnContext() {
    Struct context = contextOf(8 * 1024 + 1);
    assertThat(context.getSerializedSize()).isEqualTo(8 * 1024 + 1);
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setContext(context).build()));
    assertThat(violationFields(e)).containsExactly("context");
  }

  @ParameterizedTest
  @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void mintSession_contextWithANumberJsonCannotWrite_isInvalidRequestOnContext(double number) {
    // Such a session would spend its use at an HTTP redeem or an Envoy Check, then fail to answer.
    Struct nested = Struct.newBuilder()
        .putFields("scores", Value.newBuilder().setListValue(ListValue.newBuilder()
            .addValues(Value.newBuilder().setNumberValue(1))
            .addValues(Value.newBuilder().setNumberValue(number))).build())
        .build();
    StatusRuntimeException e = ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        () -> ta.mint(minter, request().setContext(Struct.newBuilder().putFields("game", Value.newBuilder().setStructValue(nested).build())).build()));
    assertThat(violationFields(e)).containsExactly("context");
    assertThat(e.getStatus().getDescription()).contains("finite");
  }

  @Test
  void mintSession_maxUsesOutOfRange_isInvalidRequestOnMaxUses() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setMaxUses(1001).build()));
    assertThat(violationFields(e)).containsExactly("max_uses");
  }

  @Test
  void mintSession_audienceTooLong_isInvalidRequestOnAudience() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setAudience("a".repeat(129)).build()));
    assertThat(violationFields(e)).containsExactly("audience");
  }

  @Test
  void mintSession_badScopeSyntax_isInvalidRequestOnThatScope() {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST",
            () -> ta.mint(minter, request().addScopes("chat:write").addScopes("Not A Scope").build()));
    assertThat(violationFields(e)).containsExactly("scopes[1]");
  }

  @Test
  void mintSession_scopesHeldByKey_areCarried() {
    String token = ta.mint(minter, request().addScopes("chat:write").build()).getToken();
    assertThat(ta.stub(minter).redeem(RedeemRequest.newBuilder().setToken(token).build()).getScopesList()).containsExactly("chat:write");
  }

  @Test
  void mintSession_scopeNotHeldByKey_isScopeNotGranted() {
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.mint(minter, request().addScopes("billing:read").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.mint(minter, request().addScopes("admin").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> ta.mint(minter, request().addScopes("keys:write").build()));
  }

  @Test
  void mintSession_originNotAllowedForKey_isOriginNotAllowed() {
    String bound =
        ta.createKey(CreateApiKeyRequest.newBuilder()
                .setName("web")
                .addScopes("sessions:mint")
                .addAllowedOrigins("https://app.example.com")
                .build())
            .getSecret();
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", () -> ta.mint(bound, request().setOrigin("https://evil.example.com").build()));
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", () -> ta.mint(bound, request().setOrigin("http://app.example.com").build()));
    // A key without allowed origins may bind to none.
    ta.assertFails(Code.PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", () -> ta.mint(minter, request().setOrigin("https://app.example.com").build()));
    assertThat(ta.mint(bound, request().setOrigin("https://APP.example.com:443").build()).getSessionId()).isNotEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"app.example.com", "https://app.example.com/path", "ftp://app.example.com", "https://", "https://user@app.example.com", "https://app.example.com?q=1"})
  void mintSession_malformedOrigin_isInvalidRequestOnOrigin(String origin) {
    StatusRuntimeException e =
        ta.assertFails(Code.INVALID_ARGUMENT, "INVALID_REQUEST", () -> ta.mint(minter, request().setOrigin(origin).build()));
    assertThat(violationFields(e)).containsExactly("origin");
  }

  @Test
  void mintSession_twice_givesDistinctSessionsAndTokens() {
    MintSessionResponse a = ta.mint(minter, "rep_8842");
    MintSessionResponse b = ta.mint(minter, "rep_8842");
    assertThat(a.getSessionId()).isNotEqualTo(b.getSessionId());
    assertThat(a.getToken()).isNotEqualTo(b.getToken());
  }

  /** A context whose encoded size is exactly {@code bytes} (for sizes above ~200). */
  static Struct contextOf(int bytes) {
    // Struct{fields: map entry{key "k", value Value{string_value s}}}: framing overhead below.
    for (int n = bytes; n > 0; n--) {
      Struct s = Struct.newBuilder().putFields("k", Value.newBuilder().setStringValue("x".repeat(n)).build()).build();
      if (s.getSerializedSize() == bytes) {
        return s;
      }
      if (s.getSerializedSize() < bytes) {
        break;
      }
    }
    throw new IllegalArgumentException("no single-string context encodes to " + bytes + " bytes");
  }
}
