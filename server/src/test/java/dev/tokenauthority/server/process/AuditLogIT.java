package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.ListApiKeysRequest;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.Tenant;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real jar with --audit-log: after a run with successes and refusals, every line parses as
 * JSON with the documented fields, and no secret or token of the run, nor a hash of one, is in
 * the file.
 */
class AuditLogIT extends ProcessTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> CORE = Set.of("time", "rpc", "outcome", "code", "reason", "tenant", "api_key_id", "peer");
  private static final Set<String> OPTIONAL =
      Set.of("session_id", "external_user_id", "target_api_key_id", "target_tenant", "kid", "peer_certificate");

  @TempDir Path dataDir;

  @Test
  void runWithRefusals_writesOneDocumentedLinePerEvent_andNoSecret() throws Exception {
    Path auditFile = dataDir.resolve("audit.jsonl");
    List<String> secrets = new ArrayList<>();
    String admin = secret(ServerProcess.randomSecret());
    secrets.add(admin);
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), "--audit-log", auditFile.toString());

    String key = createKey(server, admin, "app", "sessions:mint", "sessions:redeem");
    secrets.add(key);
    MintSessionResponse minted = mint(server, key, "rep_8842", 1);
    secrets.add(minted.getToken());
    redeem(server, key, minted.getToken());
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(server, key, minted.getToken()));
    MintSessionResponse toRevoke = mint(server, key, "rep_9", 2);
    secrets.add(toRevoke.getToken());
    server.stub(key).revoke(RevokeRequest.newBuilder().setToken(toRevoke.getToken()).build());
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_REVOKED", () -> redeem(server, key, toRevoke.getToken()));
    assertFails(Status.Code.INVALID_ARGUMENT, "INVALID_TTL", () -> server.stub(key)
        .mintSession(MintSessionRequest.newBuilder().setExternalUserId("u").setTtlSeconds(999_999).build()));
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REQUIRED", () -> TokenAuthorityGrpc.newBlockingStub(server.channel())
        .getJwks(GetJwksRequest.getDefaultInstance()));
    String unknown = secret(ServerProcess.randomSecret());
    secrets.add(unknown);
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_INVALID", () -> server.stub(unknown).getJwks(GetJwksRequest.getDefaultInstance()));
    assertFails(Status.Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED", () -> server.stub(key).listApiKeys(ListApiKeysRequest.getDefaultInstance()));
    server.tenantAdmin(admin).createTenant(CreateTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setId("acme")).build());
    server.tenantAdmin(admin).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
    String keyId = server.stub(admin).listApiKeys(ListApiKeysRequest.getDefaultInstance()).getApiKeysList().stream()
        .filter(k -> k.getName().equals("app")).findFirst().orElseThrow().getId();
    server.stub(admin).revoke(RevokeRequest.newBuilder().setApiKeyId(keyId).build());
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> mint(server, key, "late", 1));
    // A secret where an id belongs: refused, and not copied.
    assertFails(Status.Code.NOT_FOUND, "NOT_FOUND",
        () -> server.stub(admin).revoke(RevokeRequest.newBuilder().setSessionId(admin).build()));

    server.sigterm();
    assertThat(server.waitFor(Duration.ofSeconds(30))).isZero();

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(auditFile))).isEqualTo("rw-------");
    String text = Files.readString(auditFile, StandardCharsets.UTF_8);
    for (String s : secrets) {
      for (String form : forms(s)) {
        assertThat(text.contains(form)).as("the audit log holds a secret, a token, or a hash of one (%s...)", form.substring(0, 6))
            .isFalse();
      }
    }
    List<JsonNode> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      JsonNode node = JSON.readTree(line);
      assertThat(node.isObject()).isTrue();
      node.fieldNames().forEachRemaining(f -> assertThat(f).isIn(union(CORE, OPTIONAL)));
      assertThat(CORE).allSatisfy(f -> assertThat(node.has(f)).as("%s in %s", f, line).isTrue());
      OffsetDateTime.parse(node.get("time").asText());
      assertThat(node.get("peer").asText()).startsWith("127.0.0.1:");
      lines.add(node);
    }
    Map<String, Integer> outcomes = new TreeMap<>();
    for (JsonNode line : lines) {
      String rpc = line.get("rpc").asText();
      String what = rpc.substring(rpc.indexOf('/') + 1) + " " + line.get("outcome").asText()
          + (line.get("reason").isNull() ? "" : " " + line.get("reason").asText());
      outcomes.merge(what, 1, Integer::sum);
    }
    assertThat(outcomes).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
        Map.entry("CreateApiKey ok", 1),
        Map.entry("MintSession ok", 2),
        Map.entry("Redeem ok", 1),
        Map.entry("Redeem refused TOKEN_ALREADY_USED", 1),
        Map.entry("Revoke ok", 2),
        Map.entry("Redeem refused TOKEN_REVOKED", 1),
        Map.entry("MintSession refused INVALID_TTL", 1),
        Map.entry("GetJwks refused API_KEY_REQUIRED", 1),
        Map.entry("GetJwks refused API_KEY_INVALID", 1),
        Map.entry("ListApiKeys refused SCOPE_NOT_GRANTED", 1),
        Map.entry("CreateTenant ok", 1),
        Map.entry("RotateSigningKey ok", 1),
        Map.entry("MintSession refused API_KEY_REVOKED", 1),
        Map.entry("Revoke refused NOT_FOUND", 1)));
    JsonNode mint = lines.stream().filter(l -> l.get("rpc").asText().endsWith("/MintSession")).findFirst().orElseThrow();
    assertThat(mint.get("session_id").asText()).isEqualTo(minted.getSessionId());
    assertThat(mint.get("api_key_id").asText()).isEqualTo(keyId);
    assertThat(mint.get("tenant").asText()).isEqualTo("default");
    assertThat(server.stdout()).contains("audit log: " + auditFile.toAbsolutePath());
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return all;
  }

  /** A secret, the signature part of a token, and the SHA-256 of each in hex and base64. */
  private static List<String> forms(String secret) throws Exception {
    List<String> forms = new ArrayList<>();
    forms.add(secret);
    int dot = secret.lastIndexOf('.');
    if (secret.startsWith("eyJ") && dot > 0) {
      forms.add(secret.substring(dot + 1));
    }
    byte[] hash = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    forms.add(HexFormat.of().formatHex(hash));
    forms.add(Base64.getEncoder().encodeToString(hash));
    forms.add(Base64.getUrlEncoder().withoutPadding().encodeToString(hash));
    return forms;
  }
}
