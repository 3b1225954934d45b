package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.RotateSigningKeyResponse;
import dev.tokenauthority.v1.Tenant;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The audit lines of real calls (in-process gRPC): one per state change and per refusal, never a secret. */
class AuditTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TA = "tokenauthority.v1.TokenAuthority/";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final List<String> secrets = new ArrayList<>();
  private AuditLog audit;
  private InProcessAuthority ta;

  @BeforeEach
  void start() throws Exception {
    audit = new AuditLog(out, true, 1024);
    ta = InProcessAuthority.builder().audit(audit).start();
    secrets.add(ta.adminSecret());
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
    audit.close();
  }

  /** Every line so far, once the log is closed. */
  private List<JsonNode> lines() throws Exception {
    ta.close();
    audit.close();
    String text = out.toString(StandardCharsets.UTF_8);
    for (String secret : secrets) {
      assertThat(text).as("the audit log holds a secret or token").doesNotContain(secret);
    }
    List<JsonNode> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      JsonNode node = JSON.readTree(line);
      OffsetDateTime.parse(node.get("time").asText());
      lines.add(node);
    }
    return lines;
  }

  private CreateApiKeyResponse createKey(String... scopes) {
    CreateApiKeyResponse created =
        ta.createKey(CreateApiKeyRequest.newBuilder().setName("audited").addAllScopes(List.of(scopes)).build());
    secrets.add(created.getSecret());
    return created;
  }

  private static String text(JsonNode line, String field) {
    JsonNode v = line.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  @Test
  void stateChangesAndRefusals_eachWriteOneLine_readsWriteNone() throws Exception {
    CreateApiKeyResponse key = createKey("sessions:mint", "sessions:redeem");
    String keyId = key.getApiKey().getId();
    MintSessionResponse minted = ta.mint(key.getSecret(), "rep_8842");
    secrets.add(minted.getToken());
    ta.stub(key.getSecret()).redeem(RedeemRequest.newBuilder().setToken(minted.getToken()).build());
    ta.assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED",
        () -> ta.stub(key.getSecret()).redeem(RedeemRequest.newBuilder().setToken(minted.getToken()).build()));
    // Reads that succeed are not audited.
    ta.admin().listApiKeys(ListApiKeysRequest.getDefaultInstance());
    ta.stub(key.getSecret()).getJwks(GetJwksRequest.getDefaultInstance());

    List<JsonNode> lines = lines();

    assertThat(lines).extracting(l -> text(l, "rpc"))
        .containsExactly(TA + "CreateApiKey", TA + "MintSession", TA + "Redeem", TA + "Redeem");
    JsonNode create = lines.get(0);
    assertThat(text(create, "outcome")).isEqualTo("ok");
    assertThat(text(create, "code")).isEqualTo("OK");
    assertThat(text(create, "tenant")).isEqualTo("default");
    assertThat(text(create, "api_key_id")).startsWith("key_").isNotEqualTo(keyId);
    assertThat(text(create, "target_api_key_id")).isEqualTo(keyId);
    assertThat(text(create, "target_tenant")).isEqualTo("default");
    assertThat(text(create, "peer")).isNotEmpty();
    JsonNode mint = lines.get(1);
    assertThat(text(mint, "api_key_id")).isEqualTo(keyId);
    assertThat(text(mint, "session_id")).isEqualTo(minted.getSessionId());
    assertThat(text(mint, "external_user_id")).isEqualTo("rep_8842");
    assertThat(mint.get("reason").isNull()).isTrue();
    JsonNode redeemed = lines.get(2);
    assertThat(text(redeemed, "session_id")).isEqualTo(minted.getSessionId());
    assertThat(text(redeemed, "outcome")).isEqualTo("ok");
    JsonNode refused = lines.get(3);
    assertThat(text(refused, "outcome")).isEqualTo("refused");
    assertThat(text(refused, "code")).isEqualTo("UNAUTHENTICATED");
    assertThat(text(refused, "reason")).isEqualTo("TOKEN_ALREADY_USED");
    assertThat(text(refused, "api_key_id")).isEqualTo(keyId);
    assertThat(refused.has("session_id")).as("a refused token's jti is not trusted").isFalse();
  }

  @Test
  void refusalsOfAuthentication_nameTheCallerOnlyOnceItsKeyIsKnown() throws Exception {
    CreateApiKeyResponse mintOnly = createKey("sessions:mint");
    ta.assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REQUIRED", () -> ta.anonymous().getJwks(GetJwksRequest.getDefaultInstance()));
    String unknown = "sk_" + "A".repeat(40);
    secrets.add(unknown);
    ta.assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_INVALID",
        () -> ta.withAuthorization("Bearer " + unknown).getJwks(GetJwksRequest.getDefaultInstance()));
    ta.assertFails(Status.Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> ta.stub(mintOnly.getSecret()).redeem(RedeemRequest.newBuilder().setToken("x").build()));

    List<JsonNode> lines = lines();

    assertThat(lines).hasSize(4);
    assertThat(lines.get(1).get("reason").asText()).isEqualTo("API_KEY_REQUIRED");
    assertThat(lines.get(1).get("tenant").isNull()).isTrue();
    assertThat(lines.get(1).get("api_key_id").isNull()).isTrue();
    assertThat(lines.get(2).get("reason").asText()).isEqualTo("API_KEY_INVALID");
    assertThat(lines.get(2).get("api_key_id").isNull()).isTrue();
    assertThat(lines.get(3).get("reason").asText()).isEqualTo("SCOPE_NOT_GRANTED");
    assertThat(lines.get(3).get("api_key_id").asText()).isEqualTo(mintOnly.getApiKey().getId());
  }

  @Test
  void revokeAndAdmin_nameWhatTheyActedOn() throws Exception {
    CreateApiKeyResponse key = createKey("sessions:mint", "keys:write");
    MintSessionResponse minted = ta.mint(key.getSecret(), "user-1");
    secrets.add(minted.getToken());
    ta.stub(key.getSecret()).revoke(RevokeRequest.newBuilder().setToken(minted.getToken()).build());
    ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(key.getApiKey().getId()).build());
    ta.tenantAdmin().createTenant(CreateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("acme")).build());
    RotateSigningKeyResponse rotated = ta.tenantAdmin().rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
    // A secret sent where an id belongs is refused, and not copied into the log.
    ta.assertFails(Status.Code.NOT_FOUND, "NOT_FOUND",
        () -> ta.admin().revoke(RevokeRequest.newBuilder().setApiKeyId(ta.adminSecret()).build()));

    List<JsonNode> lines = lines();

    assertThat(lines).extracting(l -> text(l, "rpc"))
        .containsExactly(TA + "CreateApiKey", TA + "MintSession", TA + "Revoke", TA + "Revoke",
            "tokenauthority.v1.TenantAdmin/CreateTenant", "tokenauthority.v1.TenantAdmin/RotateSigningKey", TA + "Revoke");
    assertThat(text(lines.get(2), "session_id")).isEqualTo(minted.getSessionId());
    assertThat(text(lines.get(3), "target_api_key_id")).isEqualTo(key.getApiKey().getId());
    assertThat(text(lines.get(4), "target_tenant")).isEqualTo("acme");
    assertThat(text(lines.get(5), "kid")).isEqualTo(rotated.getKid());
    assertThat(text(lines.get(6), "outcome")).isEqualTo("refused");
    assertThat(lines.get(6).has("target_api_key_id")).isFalse();
  }
}
