package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.session.MintRules;
import dev.tokenauthority.server.store.StoreKind;
import dev.tokenauthority.server.store.jdbc.JdbcStore;
import dev.tokenauthority.server.store.sqlite.SqliteDatabase;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.WriterHold;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RedeemResponse;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP/JSON port against an authority on a memory store: every route of the contract's
 * table, every HTTP status of the error mapping, the envelope, both JSON name styles, the open
 * routes, and bad input (unknown fields, not JSON, too large, too slow).
 */
class HttpApiTest {
  private InProcessAuthority authority;
  private HttpTestClient http;

  @BeforeEach
  void start() {
    authority = InProcessAuthority.builder()
        .directExecutor(false)
        .http(HttpGateway.Settings.plain(0).withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2)))
        .start();
    http = HttpTestClient.local(authority.httpPort());
  }

  @AfterEach
  void stop() throws InterruptedException {
    authority.close();
  }

  private String admin() {
    return authority.adminSecret();
  }

  private String mintKey() {
    return authority.createKey(Scopes.SESSIONS_MINT, Scopes.SESSIONS_REDEEM);
  }

  private HttpTestClient.Reply mint(String key, String body) {
    return http.post("/v1/sessions", key, body);
  }

  /** A context of {@code levels} nested objects, the context itself the first: {"n":{"n":...{"leaf":"x"}}}. */
  private static String nestedContext(int levels) {
    return "{\"n\":".repeat(levels - 1) + "{\"leaf\":\"x\"}" + "}".repeat(levels - 1);
  }

  @Test
  void mintWithAContextNestedToTheDepthLimit_isRedeemedWithItsContext_overHttpAndGrpc() throws Exception {
    String key = mintKey();
    String body = "{\"externalUserId\":\"u1\",\"maxUses\":2,\"context\":" + nestedContext(MintRules.MAX_CONTEXT_DEPTH) + "}";
    HttpTestClient.Reply minted = mint(key, body);
    assertThat(minted.status()).isEqualTo(200);

    HttpTestClient.Reply overHttp = http.post("/v1/sessions:redeem", key, "{\"token\":\"" + minted.field("token") + "\"}");
    assertThat(overHttp.status()).isEqualTo(200);
    assertThat(overHttp.json().get("context").toString()).isEqualTo(nestedContext(MintRules.MAX_CONTEXT_DEPTH));
    // A gRPC client parses the answer with protobuf's default nesting limit.
    RedeemResponse overGrpc = authority.stub(key).redeem(RedeemRequest.newBuilder().setToken(minted.field("token")).build());
    assertThat(JsonFormat.printer().omittingInsignificantWhitespace().print(overGrpc.getContext()))
        .isEqualTo(nestedContext(MintRules.MAX_CONTEXT_DEPTH));
  }

  @Test
  void aSessionStoredWithAContextDeeperThanTheLimit_beforeTheLimit_stillRedeemsOverHttp(@TempDir Path dataDir) throws Exception {
    Path file = dataDir.resolve(SqliteStores.FILE_NAME);
    SqliteDatabase db = SqliteDatabase.open(file, Duration.ofSeconds(10));
    try (InProcessAuthority sqlite = InProcessAuthority.builder().store(new JdbcStore(StoreKind.SQLITE, db)).directExecutor(false)
        .http(HttpGateway.Settings.plain(0)).start()) {
      String key = sqlite.createKey(Scopes.SESSIONS_MINT, Scopes.SESSIONS_REDEEM);
      HttpTestClient client = HttpTestClient.local(sqlite.httpPort());
      HttpTestClient.Reply minted = client.post("/v1/sessions", key, "{\"externalUserId\":\"u1\",\"context\":{\"a\":1}}");
      assertThat(minted.status()).isEqualTo(200);
      // What an earlier build let an HTTP client store: 50 levels, past protobuf's default limit.
      com.google.protobuf.Struct.Builder deep = com.google.protobuf.Struct.newBuilder();
      com.google.protobuf.util.JsonFormat.parser().merge(nestedContext(50), deep);
      try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
          java.sql.PreparedStatement update = c.prepareStatement("UPDATE sessions SET context = ? WHERE id = ?")) {
        update.setBytes(1, deep.build().toByteArray());
        update.setString(2, minted.field("sessionId"));
        assertThat(update.executeUpdate()).isEqualTo(1);
      }

      HttpTestClient.Reply redeemed = client.post("/v1/sessions:redeem", key, "{\"token\":\"" + minted.field("token") + "\"}");
      assertThat(redeemed.status()).isEqualTo(200);
      assertThat(redeemed.json().get("context").toString()).isEqualTo(nestedContext(50));
    }
  }

  @Test
  void mintWithAContextNestedPastTheDepthLimit_is400OnContext_andNothingIsMinted() {
    String key = mintKey();
    HttpTestClient.Reply refused = mint(key,
        "{\"externalUserId\":\"u1\",\"context\":" + nestedContext(MintRules.MAX_CONTEXT_DEPTH + 1) + "}");
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.code()).isEqualTo("INVALID_REQUEST");
    JsonObject violation = refused.json().getAsJsonObject("error").getAsJsonArray("details").get(0).getAsJsonObject();
    assertThat(violation.get("path").getAsString()).isEqualTo("context");
    assertThat(violation.get("message").getAsString()).contains("32 levels");
    // Lists count as levels too: a list in a list... past the limit is refused the same way.
    String lists = "[".repeat(MintRules.MAX_CONTEXT_DEPTH) + "1" + "]".repeat(MintRules.MAX_CONTEXT_DEPTH);
    assertThat(mint(key, "{\"externalUserId\":\"u1\",\"context\":{\"l\":" + lists + "}}").status()).isEqualTo(400);
  }

  @Test
  void mintWithANumberPastTheDoubleRange_is400OnContext_insteadOfASessionThatCannotBeAnswered() {
    // 1e400 is valid JSON but no double: it became Infinity, which no JSON reply can carry, so
    // every later HTTP redeem took the use and then failed.
    HttpTestClient.Reply refused = mint(mintKey(), "{\"externalUserId\":\"u1\",\"context\":{\"score\":1e400}}");

    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.code()).isEqualTo("INVALID_REQUEST");
    JsonObject violation = refused.json().getAsJsonObject("error").getAsJsonArray("details").get(0).getAsJsonObject();
    assertThat(violation.get("path").getAsString()).isEqualTo("context");
  }

  @Test
  void mintSession_thenRedeemTwice_secondIsAlreadyUsedWithBearerChallenge() {
    String key = mintKey();
    HttpTestClient.Reply minted = mint(key, "{\"externalUserId\":\"rep_8842\",\"externalGroupId\":\"agency_chicago\"}");
    assertThat(minted.status()).isEqualTo(200);
    assertThat(minted.json().keySet()).contains("token", "sessionId", "expireTime", "expiresInSeconds");
    assertThat(minted.header("x-ratelimit-limit")).isNotNull();
    assertThat(minted.header("x-ratelimit-remaining")).isNotNull();
    assertThat(minted.header("x-ratelimit-reset")).matches("\\d+");

    String redeem = "{\"token\":\"" + minted.field("token") + "\"}";
    HttpTestClient.Reply first = http.post("/v1/sessions:redeem", key, redeem);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.field("externalUserId")).isEqualTo("rep_8842");
    assertThat(first.field("externalGroupId")).isEqualTo("agency_chicago");
    assertThat(first.field("sessionId")).isEqualTo(minted.field("sessionId"));
    assertThat(first.json().get("usesRemaining").getAsInt()).isZero();

    HttpTestClient.Reply second = http.post("/v1/sessions:redeem", key, redeem);
    assertThat(second.status()).isEqualTo(401);
    assertThat(second.code()).isEqualTo("TOKEN_ALREADY_USED");
    assertThat(second.header("www-authenticate")).startsWith("Bearer");
    assertThat(second.header("content-type")).startsWith("application/json");
  }

  @Test
  void mintSession_protoFieldNames_areAcceptedLikeLowerCamel() {
    String key = mintKey();
    HttpTestClient.Reply minted = mint(key, "{\"external_user_id\":\"u1\",\"ttl_seconds\":60,\"max_uses\":2}");
    assertThat(minted.status()).isEqualTo(200);
    assertThat(minted.field("expiresInSeconds")).isEqualTo("60");
    HttpTestClient.Reply redeemed = http.post("/v1/sessions:redeem", key, "{\"token\":\"" + minted.field("token") + "\"}");
    assertThat(redeemed.json().get("usesRemaining").getAsInt()).isEqualTo(1);
  }

  @Test
  void introspect_activeToken_isActiveWithoutConsumingAUse() {
    String key = mintKey();
    String token = mint(key, "{\"externalUserId\":\"u1\"}").field("token");
    HttpTestClient.Reply info = http.post("/v1/sessions:introspect", key, "{\"token\":\"" + token + "\"}");
    assertThat(info.status()).isEqualTo(200);
    assertThat(info.json().get("active").getAsBoolean()).isTrue();
    assertThat(http.post("/v1/sessions:redeem", key, "{\"token\":\"" + token + "\"}").status()).isEqualTo(200);
    HttpTestClient.Reply after = http.post("/v1/sessions:introspect", key, "{\"token\":\"" + token + "\"}");
    assertThat(after.json().get("active").getAsBoolean()).isFalse();
    assertThat(after.field("reason")).isEqualTo("TOKEN_ALREADY_USED");
  }

  @Test
  void createApiKey_thenListApiKeys_pagesWithBothQueryNameStyles() {
    HttpTestClient.Reply created = http.post("/v1/apiKeys", admin(),
        "{\"name\":\"backend\",\"scopes\":[\"sessions:mint\"],\"allowed_origins\":[\"https://app.example.com\"]}");
    assertThat(created.status()).isEqualTo(200);
    assertThat(created.field("secret")).startsWith("sk_");
    JsonObject key = created.json().getAsJsonObject("apiKey");
    assertThat(key.get("allowedOrigins").getAsJsonArray().get(0).getAsString()).isEqualTo("https://app.example.com");
    assertThat(created.body()).doesNotContain("allowed_origins");

    HttpTestClient.Reply page = http.get("/v1/apiKeys?pageSize=1", admin());
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.json().getAsJsonArray("apiKeys")).hasSize(1);
    String next = page.field("nextPageToken");
    assertThat(next).isNotEmpty();
    HttpTestClient.Reply rest = http.get("/v1/apiKeys?page_size=10&pageToken=" + next + "&tenantId=default", admin());
    assertThat(rest.status()).isEqualTo(200);
    assertThat(rest.json().getAsJsonArray("apiKeys")).isNotEmpty();
    assertThat(rest.body()).doesNotContain(created.field("secret"));
  }

  @Test
  void revoke_sessionId_stopsTheToken() {
    String key = mintKey();
    HttpTestClient.Reply minted = mint(key, "{\"externalUserId\":\"u1\"}");
    HttpTestClient.Reply revoked = http.post("/v1/revoke", key, "{\"sessionId\":\"" + minted.field("sessionId") + "\"}");
    assertThat(revoked.status()).isEqualTo(200);
    assertThat(revoked.json().has("revokeTime")).isTrue();
    HttpTestClient.Reply redeem = http.post("/v1/sessions:redeem", key, "{\"token\":\"" + minted.field("token") + "\"}");
    assertThat(redeem.code()).isEqualTo("TOKEN_REVOKED");
  }

  @Test
  void getJwks_withKey_andWellKnown_withoutKeyAndCacheable() {
    HttpTestClient.Reply withKey = http.get("/v1/jwks", mintKey());
    assertThat(withKey.status()).isEqualTo(200);
    JsonArray keys = withKey.json().getAsJsonArray("keys");
    assertThat(keys.get(0).getAsJsonObject().get("alg").getAsString()).isEqualTo("EdDSA");

    HttpTestClient.Reply open = http.get("/.well-known/jwks.json", null);
    assertThat(open.status()).isEqualTo(200);
    assertThat(open.json()).isEqualTo(withKey.json());
    assertThat(open.header("cache-control")).isEqualTo("public, max-age=15, stale-if-error=86400");
    assertThat(http.get("/v1/jwks", null).status()).isEqualTo(401);
  }

  @Test
  void tenants_createGetUpdateList_andRotateSigningKey() {
    HttpTestClient.Reply created = http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"displayName\":\"Acme\"}");
    assertThat(created.status()).isEqualTo(200);
    assertThat(created.json().getAsJsonObject("tenant").get("status").getAsString()).isEqualTo("TENANT_STATUS_ACTIVE");

    HttpTestClient.Reply got = http.get("/v1/tenants/acme", admin());
    assertThat(got.json().getAsJsonObject("tenant").get("displayName").getAsString()).isEqualTo("Acme");

    HttpTestClient.Reply updated = http.send("PATCH", "/v1/tenants/acme?updateMask=displayName,sessionTtlDefaultSeconds", admin(),
        "{\"displayName\":\"Acme Inc\",\"sessionTtlDefaultSeconds\":120,\"mintRatePerMinute\":7}");
    assertThat(updated.status()).isEqualTo(200);
    JsonObject tenant = updated.json().getAsJsonObject("tenant");
    assertThat(tenant.get("displayName").getAsString()).isEqualTo("Acme Inc");
    assertThat(tenant.get("sessionTtlDefaultSeconds").getAsString()).isEqualTo("120");
    assertThat(tenant.get("mintRatePerMinute").getAsInt()).as("not in the mask").isZero();

    HttpTestClient.Reply list = http.get("/v1/tenants?pageSize=10", admin());
    assertThat(ids(list.json().getAsJsonArray("tenants"))).contains("acme", "default");

    HttpTestClient.Reply rotated = http.post("/v1/signingKeys:rotate", admin(), null);
    assertThat(rotated.status()).isEqualTo(200);
    assertThat(rotated.field("kid")).isNotEmpty();
    assertThat(http.get("/.well-known/jwks.json", null).body()).contains(rotated.field("kid"));
  }

  private static Set<String> ids(JsonArray tenants) {
    Set<String> ids = new HashSet<>();
    tenants.forEach(t -> ids.add(t.getAsJsonObject().get("id").getAsString()));
    return ids;
  }

  @Test
  void errors_eachGrpcCode_hasItsHttpStatusAndReason() {
    String key = mintKey();
    HttpTestClient.Reply noKey = mint(null, "{\"externalUserId\":\"u1\"}");
    assertThat(noKey.status()).isEqualTo(401);
    assertThat(noKey.code()).isEqualTo("API_KEY_REQUIRED");
    assertThat(noKey.header("www-authenticate")).startsWith("Bearer");

    HttpTestClient.Reply badKey = mint("sk_notakey", "{\"externalUserId\":\"u1\"}");
    assertThat(badKey.status()).isEqualTo(401);
    assertThat(badKey.code()).isEqualTo("API_KEY_INVALID");

    String redeemOnly = authority.createKey(Scopes.SESSIONS_REDEEM);
    HttpTestClient.Reply noScope = mint(redeemOnly, "{\"externalUserId\":\"u1\"}");
    assertThat(noScope.status()).isEqualTo(403);
    assertThat(noScope.code()).isEqualTo("SCOPE_NOT_GRANTED");

    HttpTestClient.Reply badTtl = mint(key, "{\"externalUserId\":\"u1\",\"ttlSeconds\":999999}");
    assertThat(badTtl.status()).isEqualTo(400);
    assertThat(badTtl.code()).isEqualTo("INVALID_TTL");

    HttpTestClient.Reply missing = http.get("/v1/tenants/nope", admin());
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.code()).isEqualTo("NOT_FOUND");

    assertThat(http.post("/v1/tenants", admin(), "{\"id\":\"twice\"}").status()).isEqualTo(200);
    HttpTestClient.Reply again = http.post("/v1/tenants", admin(), "{\"id\":\"twice\"}");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.code()).isEqualTo("ALREADY_EXISTS");
  }

  @Test
  void mintSession_overTheRate_is429WithRetryAfterAndRateLimitHeaders() {
    HttpTestClient.Reply limited = http.send("PATCH", "/v1/tenants/default?update_mask=mint_rate_per_minute", admin(),
        "{\"mint_rate_per_minute\":1}");
    assertThat(limited.status()).isEqualTo(200);
    String key = mintKey();
    assertThat(mint(key, "{\"externalUserId\":\"u1\"}").status()).isEqualTo(200);
    HttpTestClient.Reply refused = mint(key, "{\"externalUserId\":\"u1\"}");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.code()).isEqualTo("RATE_LIMITED");
    assertThat(refused.header("retry-after")).matches("[1-9]\\d*");
    assertThat(refused.json().getAsJsonObject("error").get("message").getAsString())
        .as("the message and the header round alike").contains("retry in " + refused.header("retry-after") + " s");
    assertThat(refused.header("x-ratelimit-limit")).isEqualTo("1");
    assertThat(refused.header("x-ratelimit-remaining")).isEqualTo("0");
    assertThat(refused.header("x-ratelimit-reset")).matches("\\d+");
  }

  @Test
  void mintSession_invalid_is400WithTheRateLimitHeadersOfTheKey() {
    http.send("PATCH", "/v1/tenants/default?update_mask=mint_rate_per_minute", admin(), "{\"mint_rate_per_minute\":5}");
    String key = mintKey();

    HttpTestClient.Reply invalid = mint(key, "{\"externalUserId\":\"u1\",\"ttlSeconds\":999999}");

    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.header("x-ratelimit-limit")).isEqualTo("5");
    assertThat(invalid.header("x-ratelimit-remaining")).isEqualTo("5");
    assertThat(invalid.header("x-ratelimit-reset")).matches("\\d+");
    assertThat(invalid.header("retry-after")).isNull();
  }

  @Test
  void mintSession_aBodyThatDoesNotParse_is400WithTheRateLimitHeadersToo() {
    http.send("PATCH", "/v1/tenants/default?update_mask=mint_rate_per_minute", admin(), "{\"mint_rate_per_minute\":5}");
    String key = mintKey();
    assertThat(mint(key, "{\"externalUserId\":\"u1\"}").header("x-ratelimit-remaining")).isEqualTo("4");

    for (String body : List.of("{\"ttlSeconds\":\"abc\"}", "not json", "{\"noSuchField\":1}")) {
      HttpTestClient.Reply refused = mint(key, body);

      assertThat(refused.status()).as(body).isEqualTo(400);
      assertThat(refused.header("x-ratelimit-limit")).as(body).isEqualTo("5");
      assertThat(refused.header("x-ratelimit-remaining")).as("%s took nothing", body).isEqualTo("4");
      assertThat(refused.header("retry-after")).as(body).isNull();
    }
  }

  private static String firstPath(HttpTestClient.Reply r) {
    return r.json().getAsJsonObject("error").getAsJsonArray("details").get(0).getAsJsonObject().get("path").getAsString();
  }

  @Test
  void noRouteOrWrongMethod_neverEchoesTheSecretOrTokenAClientPutInThePath() {
    // api.md: messages never contain a secret. A REST-style guess at a key's URL carries one.
    String key = mintKey();
    String token = mint(key, "{\"externalUserId\":\"u1\"}").field("token");

    HttpTestClient.Reply delete = http.send("DELETE", "/v1/apiKeys/" + key, admin(), null);
    assertThat(delete.status()).isEqualTo(404);
    assertThat(delete.body()).doesNotContain(key).contains("no such route");
    HttpTestClient.Reply get = http.get("/v1/sessions/" + token, admin());
    assertThat(get.status()).isEqualTo(404);
    assertThat(get.body()).doesNotContain(token);
    HttpTestClient.Reply put = http.send("PUT", "/v1/tenants/" + key, admin(), "{}");
    assertThat(put.status()).isEqualTo(405);
    assertThat(put.body()).doesNotContain(key);
    assertThat(put.header("allow")).isEqualTo("GET, HEAD, PATCH");
  }

  @Test
  void tenantStatus_spelledAsApiMdSpellsIt_isAccepted_asIsTheProtoName() {
    assertThat(http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"subscriptionStatus\":\"PAST_DUE\"}").status()).isEqualTo(200);

    HttpTestClient.Reply shortName = http.send("PATCH", "/v1/tenants/acme?updateMask=status", admin(), "{\"status\":\"SUSPENDED\"}");
    assertThat(shortName.status()).as(shortName.body()).isEqualTo(200);
    JsonObject tenant = shortName.json().getAsJsonObject("tenant");
    assertThat(tenant.get("status").getAsString()).isEqualTo("TENANT_STATUS_SUSPENDED");
    assertThat(tenant.get("subscriptionStatus").getAsString()).isEqualTo("SUBSCRIPTION_STATUS_PAST_DUE");
    HttpTestClient.Reply protoName = http.send("PATCH", "/v1/tenants/acme?updateMask=status", admin(), "{\"status\":\"TENANT_STATUS_ACTIVE\"}");
    assertThat(protoName.json().getAsJsonObject("tenant").get("status").getAsString()).isEqualTo("TENANT_STATUS_ACTIVE");
    HttpTestClient.Reply unknown = http.send("PATCH", "/v1/tenants/acme?updateMask=status", admin(), "{\"status\":\"ASLEEP\"}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(firstPath(unknown)).isEqualTo("tenant.status");
  }

  @Test
  void aFieldGivenUnderBothNames_orTwoMembersOfOneOneof_isRefusedNamingTheField() {
    String key = authority.createKey(Scopes.SESSIONS_MINT, Scopes.KEYS_WRITE);
    HttpTestClient.Reply both = mint(key, "{\"externalUserId\":\"u1\",\"external_user_id\":\"u2\"}");
    assertThat(both.status()).isEqualTo(400);
    assertThat(firstPath(both)).isEqualTo("external_user_id");
    assertThat(both.body()).contains("given twice").doesNotContain("u2");

    HttpTestClient.Reply sameNameTwice = mint(key, "{\"externalUserId\":\"u1\",\"externalUserId\":\"u2\"}");
    assertThat(sameNameTwice.status()).isEqualTo(400);
    assertThat(firstPath(sameNameTwice)).isEqualTo("externalUserId");
    HttpTestClient.Reply nested = mint(key, "{\"externalUserId\":\"u1\",\"context\":{\"role\":\"a\",\"role\":\"admin\"}}");
    assertThat(nested.status()).isEqualTo(400);
    assertThat(firstPath(nested)).isEqualTo("context.role");

    HttpTestClient.Reply twoTargets = http.post("/v1/revoke", key, "{\"apiKeyId\":\"key_a\",\"sessionId\":\"ses_b\"}");
    assertThat(twoTargets.status()).isEqualTo(400);
    assertThat(firstPath(twoTargets)).isEqualTo("session_id");
    assertThat(twoTargets.body()).contains("only one of api_key_id, session_id, token");
  }

  @Test
  void aQueryParameterUnderBothNames_isRefusedAsARepeatedOneIs_namedByItsProtoName() {
    HttpTestClient.Reply repeated = http.get("/v1/apiKeys?pageSize=1&pageSize=1000", admin());
    HttpTestClient.Reply mixed = http.get("/v1/apiKeys?page_size=1&pageSize=1000", admin());

    for (HttpTestClient.Reply r : List.of(repeated, mixed)) {
      assertThat(r.status()).as(r.body()).isEqualTo(400);
      assertThat(firstPath(r)).isEqualTo("page_size");
    }
  }

  @Test
  void aMethodArmeriaDoesNotKnow_is405WithAllowOnARoute_and404Elsewhere() {
    HttpTestClient.Reply sessions = http.send("PROPFIND", "/v1/sessions", admin(), null);
    assertThat(sessions.status()).isEqualTo(405);
    assertThat(sessions.header("allow")).isEqualTo("POST");
    assertThat(sessions.code()).isEqualTo("INVALID_REQUEST");
    assertThat(http.send("PROPFIND", "/v1/apiKeys?pageSize=1", admin(), null).header("allow")).isEqualTo("GET, HEAD, POST");
    assertThat(http.send("PROPFIND", "/healthz", null, null).header("allow")).isEqualTo("GET, HEAD");
    HttpTestClient.Reply nowhere = http.send("PROPFIND", "/nowhere", admin(), null);
    assertThat(nowhere.status()).isEqualTo(404);
    assertThat(nowhere.code()).isEqualTo("NOT_FOUND");
  }

  @Test
  void head_onAGetRoute_isItsHeadersWithoutABody() {
    HttpTestClient.Reply head = http.send("HEAD", "/v1/jwks", admin(), null);

    assertThat(head.status()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(http.send("HEAD", "/v1/jwks", null, null).status()).isEqualTo(401);
  }

  @Test
  void aCompressedBody_isRefusedSayingSo_notCalledNonUtf8() throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes)) {
      gz.write("{\"externalUserId\":\"u1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()
        .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + authority.httpPort() + "/v1/sessions"))
                .timeout(Duration.ofSeconds(10))
                .header("authorization", "Bearer " + mintKey())
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray()))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("content-encoding").doesNotContain("not UTF-8");
  }

  @Test
  void badRequest_detailsCarryOnePathPerInvalidField() {
    HttpTestClient.Reply reply = http.post("/v1/apiKeys", admin(), "{\"name\":\"\"}");
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.code()).isEqualTo("INVALID_REQUEST");
    assertThat(paths(reply)).containsExactlyInAnyOrder("name", "scopes");

    HttpTestClient.Reply noUser = mint(mintKey(), "{}");
    assertThat(paths(noUser)).containsExactly("external_user_id");
  }

  private static Set<String> paths(HttpTestClient.Reply reply) {
    JsonArray details = reply.json().getAsJsonObject("error").getAsJsonArray("details");
    Set<String> paths = new HashSet<>();
    details.forEach(d -> paths.add(d.getAsJsonObject().get("path").getAsString()));
    return paths;
  }

  @Test
  void aLoneSurrogateEscape_is400NamingTheField_asGrpcRefusesItsInvalidUtf8_andNothingIsStoredAsQuestionMarks() {
    HttpTestClient.Reply key = http.post("/v1/apiKeys", admin(), "{\"name\":\"\\ud800\",\"scopes\":[\"sessions:mint\"]}");
    HttpTestClient.Reply user = mint(mintKey(), "{\"externalUserId\":\"a\\udc00b\"}");
    HttpTestClient.Reply context = mint(mintKey(), "{\"externalUserId\":\"u\",\"context\":{\"k\\ud800\":1}}");
    HttpTestClient.Reply tenant = http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"displayName\":\"x\\ud800\"}");

    assertThat(List.of(key.status(), user.status(), context.status(), tenant.status())).containsOnly(400);
    assertThat(paths(key)).containsExactly("name");
    assertThat(paths(user)).containsExactly("external_user_id");
    assertThat(paths(context)).containsExactly("context");
    assertThat(paths(tenant)).containsExactly("tenant.display_name");
    assertThat(http.get("/v1/apiKeys", admin()).body()).doesNotContain("\"name\":\"?\"");
    // An escaped pair is one character, and fine.
    String k = mintKey();
    HttpTestClient.Reply pair = mint(k, "{\"externalUserId\":\"\\ud83d\\ude00\"}");
    assertThat(pair.status()).isEqualTo(200);
    HttpTestClient.Reply redeemed = http.post("/v1/sessions:redeem", k, "{\"token\":\"" + pair.field("token") + "\"}");
    assertThat(redeemed.field("externalUserId")).isEqualTo("\uD83D\uDE00");
  }

  @Test
  void successesCarryingASecretOrAToken_areNoStore_soNoCacheOnTheWayKeepsThem() {
    HttpTestClient.Reply key = http.post("/v1/apiKeys", admin(), "{\"name\":\"k\",\"scopes\":[\"sessions:mint\",\"sessions:redeem\"]}");
    String secret = key.field("secret");
    HttpTestClient.Reply minted = mint(secret, "{\"externalUserId\":\"u1\"}");
    HttpTestClient.Reply redeemed = http.post("/v1/sessions:redeem", secret, "{\"token\":\"" + minted.field("token") + "\"}");

    for (HttpTestClient.Reply reply : List.of(key, minted, redeemed, http.get("/v1/apiKeys", admin()))) {
      assertThat(reply.status()).isEqualTo(200);
      assertThat(reply.header("cache-control")).isEqualTo("no-store");
    }
  }

  @Test
  void valueOfTheWrongType_isNamedByItsProtoPath_evenInsideTheBodyField() {
    HttpTestClient.Reply top = http.post("/v1/apiKeys", admin(), "{\"name\":\"k\",\"scopes\":[\"sessions:mint\"],\"expireTime\":\"garbage\"}");
    HttpTestClient.Reply nested = http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"sessionTtlMaxSeconds\":\"abc\"}");

    assertThat(top.status()).isEqualTo(400);
    assertThat(paths(top)).containsExactly("expire_time");
    assertThat(nested.status()).isEqualTo(400);
    assertThat(paths(nested)).containsExactly("tenant.session_ttl_max_seconds");
  }

  @Test
  void impossibleTimes_areInvalidRequest_notRolledForward() {
    for (String time : List.of("2030-13-01T00:00:00Z", "2030-02-30T00:00:00Z", "2030-01-01T24:00:00Z",
        "2030-01-01T00:00:60Z", "2030-01-01T00:00:00+25:00", "0000-01-01T00:00:00Z", "2030-01-01 00:00:00Z")) {
      HttpTestClient.Reply reply =
          http.post("/v1/apiKeys", admin(), "{\"name\":\"k\",\"scopes\":[\"sessions:mint\"],\"expireTime\":\"" + time + "\"}");
      assertThat(reply.status()).as(time).isEqualTo(400);
      assertThat(reply.code()).as(time).isEqualTo("INVALID_REQUEST");
      assertThat(paths(reply)).as(time).containsExactly("expire_time");
    }
    // An offset and a fraction are RFC 3339 too: the same instant, in UTC.
    HttpTestClient.Reply taken =
        http.post("/v1/apiKeys", admin(), "{\"name\":\"k\",\"scopes\":[\"sessions:mint\"],\"expireTime\":\"2030-01-31T12:00:00.5+02:00\"}");
    assertThat(taken.status()).isEqualTo(200);
    assertThat(taken.json().getAsJsonObject("apiKey").get("expireTime").getAsString()).isEqualTo("2030-01-31T10:00:00.500Z");
    // RFC 3339 lets the T and the Z be lowercase.
    HttpTestClient.Reply lower =
        http.post("/v1/apiKeys", admin(), "{\"name\":\"k\",\"scopes\":[\"sessions:mint\"],\"expireTime\":\"2030-01-31t12:00:00z\"}");
    assertThat(lower.status()).as(lower.body()).isEqualTo(200);
    assertThat(lower.json().getAsJsonObject("apiKey").get("expireTime").getAsString()).isEqualTo("2030-01-31T12:00:00Z");
  }

  @Test
  void aValueOfAnotherJsonType_isInvalidRequest_evenWhereProtobufWouldConvertIt() {
    String key = mintKey();
    for (String value : List.of("[\"u1\"]", "1e400", "true", "{\"a\":1}")) {
      HttpTestClient.Reply reply = mint(key, "{\"externalUserId\":" + value + "}");
      assertThat(reply.status()).as(value).isEqualTo(400);
      assertThat(paths(reply)).as(value).containsExactly("external_user_id");
    }
    HttpTestClient.Reply tenant = http.post("/v1/tenants", admin(), "{\"id\":[\"zz1\"]}");
    assertThat(tenant.status()).isEqualTo(400);
    assertThat(paths(tenant)).containsExactly("tenant.id");
    HttpTestClient.Reply scopes = http.post("/v1/apiKeys", admin(), "{\"name\":\"k\",\"scopes\":\"sessions:mint\"}");
    assertThat(paths(scopes)).containsExactly("scopes");
    HttpTestClient.Reply uses = mint(key, "{\"externalUserId\":\"u1\",\"maxUses\":[2]}");
    assertThat(paths(uses)).containsExactly("max_uses");
    assertThat(http.get("/v1/tenants/zz1", admin()).status()).as("no tenant was created").isEqualTo(404);
  }

  @Test
  void updateMask_withAnEmptyOrMisspelledPath_isInvalidRequest() {
    http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"displayName\":\"Acme\"}");
    for (String mask : List.of(",,", "displayName,", "DisplayName", "display-name")) {
      HttpTestClient.Reply reply = http.send("PATCH", "/v1/tenants/acme?updateMask=" + mask, admin(), "{\"displayName\":\"Other\"}");
      assertThat(reply.status()).as(mask).isEqualTo(400);
      assertThat(paths(reply)).as(mask).containsExactly("update_mask");
    }
    assertThat(http.get("/v1/tenants/acme", admin()).json().getAsJsonObject("tenant").get("displayName").getAsString())
        .isEqualTo("Acme");
  }

  @Test
  void patch_withAnotherIdInTheBodyThanInThePath_isInvalidRequest_notTheBodyIgnored() {
    http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"displayName\":\"Acme\"}");
    http.post("/v1/tenants", admin(), "{\"id\":\"other\",\"displayName\":\"Other\"}");

    HttpTestClient.Reply conflicting =
        http.send("PATCH", "/v1/tenants/acme?updateMask=displayName", admin(), "{\"id\":\"other\",\"displayName\":\"x\"}");
    assertThat(conflicting.status()).isEqualTo(400);
    assertThat(paths(conflicting)).containsExactly("tenant.id");
    assertThat(http.get("/v1/tenants/acme", admin()).json().getAsJsonObject("tenant").get("displayName").getAsString())
        .isEqualTo("Acme");

    HttpTestClient.Reply repeated =
        http.send("PATCH", "/v1/tenants/acme?updateMask=displayName", admin(), "{\"id\":\"acme\",\"displayName\":\"x\"}");
    assertThat(repeated.status()).isEqualTo(200);
  }

  @Test
  void manyUnknownFields_areListedUpToALimit() {
    StringBuilder body = new StringBuilder("{\"externalUserId\":\"u1\"");
    for (int i = 0; i < 500; i++) {
      body.append(",\"f").append(i).append("\":1");
    }
    HttpTestClient.Reply reply = mint(mintKey(), body.append('}').toString());
    assertThat(reply.status()).isEqualTo(400);
    JsonArray details = reply.json().getAsJsonObject("error").getAsJsonArray("details");
    assertThat(details).hasSize(33);
    assertThat(details.get(32).getAsJsonObject().get("message").getAsString()).contains("468 more");
  }

  @Test
  void unknownField_isInvalidRequestNamingIt_evenNested() {
    HttpTestClient.Reply top = mint(mintKey(), "{\"externalUserId\":\"u1\",\"colour\":\"red\"}");
    assertThat(top.status()).isEqualTo(400);
    assertThat(top.code()).isEqualTo("INVALID_REQUEST");
    assertThat(paths(top)).containsExactly("colour");

    HttpTestClient.Reply nested = http.post("/v1/tenants", admin(), "{\"id\":\"acme\",\"flavour\":1}");
    assertThat(paths(nested)).containsExactly("tenant.flavour");

    HttpTestClient.Reply query = http.get("/v1/apiKeys?pageSise=3", admin());
    assertThat(query.status()).isEqualTo(400);
    assertThat(paths(query)).containsExactly("pageSise");
  }

  @Test
  void wrongValueType_namesTheFieldWithoutEchoingTheValue() {
    HttpTestClient.Reply reply = mint(mintKey(), "{\"externalUserId\":\"u1\",\"ttlSeconds\":\"sk_secret_looking\"}");
    assertThat(reply.status()).isEqualTo(400);
    assertThat(paths(reply)).containsExactly("ttl_seconds");
    assertThat(reply.body()).doesNotContain("sk_secret_looking");
  }

  @Test
  void body_notJsonOrNotAnObject_isInvalidRequest() {
    String key = mintKey();
    for (String body : new String[] {"{externalUserId: 'u1'}", "not json", "[1,2]", "{\"a\":1} {\"b\":2}", "\"text\""}) {
      HttpTestClient.Reply reply = mint(key, body);
      assertThat(reply.status()).as(body).isEqualTo(400);
      assertThat(reply.code()).as(body).isEqualTo("INVALID_REQUEST");
    }
  }

  @Test
  void body_notUtf8_isInvalidRequest_whileAnEscapedOrLiteralReplacementCharacterIsAccepted() throws Exception {
    String key = mintKey();
    byte[] prefix = "{\"externalUserId\":\"u".getBytes(StandardCharsets.US_ASCII);
    byte[] suffix = "\"}".getBytes(StandardCharsets.US_ASCII);
    byte[] bad = new byte[prefix.length + 1 + suffix.length];
    System.arraycopy(prefix, 0, bad, 0, prefix.length);
    bad[prefix.length] = (byte) 0xFF;
    System.arraycopy(suffix, 0, bad, prefix.length + 1, suffix.length);
    java.net.http.HttpResponse<String> refused = HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + authority.httpPort() + "/v1/sessions"))
            .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bad)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body()).contains("\"code\":\"INVALID_REQUEST\"").contains("not UTF-8");

    // U+FFFD itself is a character like any other, written as is or escaped.
    assertThat(mint(key, "{\"externalUserId\":\"u\uFFFD\"}").status()).isEqualTo(200);
    assertThat(mint(key, "{\"externalUserId\":\"u\\uFFFD\"}").status()).isEqualTo(200);
  }

  @Test
  void body_over256KiB_is413InTheEnvelope() {
    String big = "{\"externalUserId\":\"" + "x".repeat(300 * 1024) + "\"}";
    HttpTestClient.Reply reply = mint(mintKey(), big);
    assertThat(reply.status()).isEqualTo(413);
    assertThat(reply.code()).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void unknownPath_is404_wrongMethod_is405WithAllow() {
    HttpTestClient.Reply unknown = http.get("/v2/sessions", mintKey());
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.code()).isEqualTo("NOT_FOUND");

    HttpTestClient.Reply wrong = http.send("DELETE", "/v1/sessions", mintKey(), null);
    assertThat(wrong.status()).isEqualTo(405);
    assertThat(wrong.header("allow")).isEqualTo("POST");
    assertThat(wrong.code()).isEqualTo("INVALID_REQUEST");

    HttpTestClient.Reply health = http.post("/healthz", null, "{}");
    assertThat(health.status()).isEqualTo(405);
    assertThat(health.header("allow")).isEqualTo("GET, HEAD");
  }

  @Test
  void head_onTheOpenRoutes_isTheGetsHeadersWithoutABody() {
    for (String path : List.of("/healthz", "/.well-known/jwks.json", "/openapi.json")) {
      HttpTestClient.Reply get = http.get(path, null);
      HttpTestClient.Reply head = http.send("HEAD", path, null, null);

      assertThat(head.status()).as(path).isEqualTo(200);
      assertThat(head.headers().firstValue("content-length")).as(path).isEqualTo(get.headers().firstValue("content-length"));
      assertThat(head.header("content-type")).as(path).isEqualTo(get.header("content-type"));
      assertThat(head.headers().firstValue("cache-control")).as(path).isEqualTo(get.headers().firstValue("cache-control"));
    }
  }

  @Test
  void healthz_servingIs200WithoutAKey() {
    HttpTestClient.Reply reply = http.get("/healthz", null);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.field("status")).isEqualTo("SERVING");
  }

  @Test
  void h2c_upgradedConnection_servesMintOverHttp2() {
    HttpTestClient h2 = new HttpTestClient("http://127.0.0.1:" + authority.httpPort(),
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build());
    assertThat(h2.get("/healthz", null).version()).isEqualTo(HttpClient.Version.HTTP_2);
    HttpTestClient.Reply minted = h2.post("/v1/sessions", mintKey(), "{\"externalUserId\":\"u1\"}");
    assertThat(minted.status()).isEqualTo(200);
    assertThat(minted.version()).isEqualTo(HttpClient.Version.HTTP_2);
  }

  @Test
  void halfSentBody_timesOutWith408AndTheConnectionIsFreed() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", authority.httpPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 100\r\n\r\n{\"externalUserId\"").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(reply).startsWith("HTTP/1.1 408");
      assertThat(reply).contains("\"code\":\"DEADLINE_EXCEEDED\"");
      // The rest of the body would be read as the next request: the server closes, and says so.
      assertThat(reply.toLowerCase(java.util.Locale.ROOT)).contains("connection: close");
    }
  }

  @Test
  void wholeRequestButSlowCall_timesOutWith504_aWriteSayingItsOutcomeIsUnknown(@TempDir Path dataDir) throws Exception {
    SqliteDatabase db = SqliteDatabase.open(dataDir.resolve(SqliteStores.FILE_NAME), Duration.ofSeconds(10));
    try (InProcessAuthority slow = InProcessAuthority.builder()
        .store(new JdbcStore(StoreKind.SQLITE, db))
        .directExecutor(false)
        .http(HttpGateway.Settings.plain(0).withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2)))
        .start()) {
      String key = slow.createKey(Scopes.SESSIONS_MINT);
      // The store's one writer is kept busy, so the mint's insert waits past the request timeout.
      CountDownLatch release = WriterHold.hold(db);
      try {
        HttpTestClient.Reply reply = HttpTestClient.local(slow.httpPort()).post("/v1/sessions", key, "{\"externalUserId\":\"u1\"}");
        assertThat(reply.status()).isEqualTo(504);
        assertThat(reply.json().getAsJsonObject("error").get("code").getAsString()).isEqualTo("DEADLINE_EXCEEDED");
        assertThat(reply.json().getAsJsonObject("error").get("message").getAsString())
            .startsWith("the call did not finish in time; it may have taken effect");
        // The mint's insert may still commit: a client must not take the 504 as "nothing happened".
        assertThat(reply.header("x-commit-state")).isEqualTo("unknown");
      } finally {
        release.countDown();
      }
    }
  }

  @Test
  void idleConnection_isClosedAfterTheIdleTimeout() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", authority.httpPort())) {
      socket.setSoTimeout(10_000);
      InputStream in = socket.getInputStream();
      assertThat(in.read()).as("closed by the server, nothing sent").isEqualTo(-1);
    }
  }

  @Test
  void openApi_mintSession_describesItsRateLimitHeaders_andIts429() {
    JsonObject mint = http.get("/openapi.json", null).json().getAsJsonObject("paths")
        .getAsJsonObject("/v1/sessions").getAsJsonObject("post").getAsJsonObject("responses");

    assertThat(mint.getAsJsonObject("200").getAsJsonObject("headers").keySet())
        .containsExactlyInAnyOrder("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset");
    assertThat(mint.getAsJsonObject("429").getAsJsonObject("headers").keySet())
        .containsExactlyInAnyOrder("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After");
    assertThat(mint.getAsJsonObject("default").getAsJsonObject("headers").keySet())
        .containsExactlyInAnyOrder("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset");
    // What it describes is what a mint answers.
    HttpTestClient.Reply minted = http.post("/v1/sessions", mintKey(), "{\"externalUserId\":\"u1\"}");
    for (String header : mint.getAsJsonObject("200").getAsJsonObject("headers").keySet()) {
      assertThat(minted.headers().firstValue(header)).as(header).isPresent();
    }
  }

  @Test
  void openApi_describesEveryServedRoute_andServesEveryDescribedRoute() {
    HttpTestClient.Reply doc = http.get("/openapi.json", null);
    assertThat(doc.status()).isEqualTo(200);
    JsonObject paths = doc.json().getAsJsonObject("paths");
    Set<String> described = new HashSet<>();
    for (Map.Entry<String, JsonElement> path : paths.entrySet()) {
      for (String method : path.getValue().getAsJsonObject().keySet()) {
        described.add(method.toUpperCase() + " " + path.getKey());
      }
    }
    Set<String> contract = Set.of(
        "POST /v1/sessions", "POST /v1/sessions:redeem", "POST /v1/sessions:introspect", "POST /v1/apiKeys",
        "GET /v1/apiKeys", "POST /v1/revoke", "GET /v1/jwks", "POST /v1/tenants", "GET /v1/tenants/{id}",
        "PATCH /v1/tenants/{id}", "GET /v1/tenants", "POST /v1/signingKeys:rotate",
        "GET /healthz", "GET /.well-known/jwks.json", "GET /openapi.json");
    assertThat(described).isEqualTo(contract);
    for (String route : described) {
      String method = route.substring(0, route.indexOf(' '));
      String path = route.substring(route.indexOf(' ') + 1).replaceAll("\\{[^}]+}", "x");
      HttpTestClient.Reply reply = http.send(method, path, admin(), method.equals("GET") ? null : "{}");
      assertThat(reply.status()).as(route).isNotEqualTo(405);
      if (reply.status() == 404) {
        assertThat(reply.json().getAsJsonObject("error").get("message").getAsString()).as(route).doesNotStartWith("no such route");
      }
    }
    JsonObject schemas = doc.json().getAsJsonObject("components").getAsJsonObject("schemas");
    JsonObject mint = schemas.getAsJsonObject("tokenauthority.v1.MintSessionRequest").getAsJsonObject("properties");
    assertThat(mint.keySet()).contains("externalUserId", "ttlSeconds", "context");
    assertThat(mint.getAsJsonObject("ttlSeconds").get("format").getAsString()).isEqualTo("int64");
  }

  @Test
  void openApi_keepsTheRulesGeneratorsRelyOn() {
    JsonObject doc = http.get("/openapi.json", null).json();
    JsonObject paths = doc.getAsJsonObject("paths");
    // OAS 3.0.3: no two templated paths that differ only in their variables' names.
    assertThat(paths.keySet().stream().map(p -> p.replaceAll("\\{[^}]*}", "{}")).distinct().count())
        .isEqualTo(paths.size());
    JsonObject patch = paths.getAsJsonObject("/v1/tenants/{id}").getAsJsonObject("patch");
    assertThat(patch.getAsJsonArray("parameters").get(0).getAsJsonObject().get("name").getAsString()).isEqualTo("id");

    // A Struct (a mint's context) takes any member; a map names its values' type.
    JsonObject schemas = doc.getAsJsonObject("components").getAsJsonObject("schemas");
    JsonObject context = schemas.getAsJsonObject("tokenauthority.v1.MintSessionRequest")
        .getAsJsonObject("properties").getAsJsonObject("context");
    assertThat(context.get("additionalProperties").getAsBoolean()).isTrue();

    // The open routes' bodies, the health route's 503 included, and a Redeem's quota 429.
    JsonObject health = paths.getAsJsonObject("/healthz").getAsJsonObject("get").getAsJsonObject("responses");
    assertThat(health.keySet()).contains("200", "503");
    assertThat(health.getAsJsonObject("503").toString()).contains("NOT_SERVING");
    assertThat(paths.getAsJsonObject("/.well-known/jwks.json").getAsJsonObject("get").getAsJsonObject("responses")
        .getAsJsonObject("200").toString()).contains("GetJwksResponse");
    assertThat(paths.getAsJsonObject("/v1/sessions:redeem").getAsJsonObject("post").getAsJsonObject("responses")
        .getAsJsonObject("429").getAsJsonObject("headers").keySet()).contains("Retry-After");
  }

  @Test
  void openApi_everyRpcOfTheServicesHasARoute() {
    JsonObject doc = JsonParser.parseString(http.get("/openapi.json", null).body()).getAsJsonObject();
    Set<String> operations = doc.getAsJsonObject("paths").entrySet().stream()
        .flatMap(p -> p.getValue().getAsJsonObject().entrySet().stream())
        .map(op -> op.getValue().getAsJsonObject().get("operationId").getAsString())
        .collect(Collectors.toSet());
    Set<String> rpcs = new HashSet<>();
    for (var method : dev.tokenauthority.v1.TokenAuthorityGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add("TokenAuthority_" + method.getBareMethodName());
    }
    for (var method : dev.tokenauthority.v1.TenantAdminGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add("TenantAdmin_" + method.getBareMethodName());
    }
    assertThat(operations).containsAll(rpcs);
  }
}
