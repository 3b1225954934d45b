package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.GetJwksResponse;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.IntrospectResponse;
import dev.tokenauthority.v1.Jwk;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RevokeResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the sqlite store acknowledged survives a SIGKILL: a redeem acknowledged just before the
 * kill stays used, unredeemed tokens, signing keys, API keys and revocations all outlive it.
 */
class DurabilityIT extends ProcessTestBase {
  private static final int SIGKILL_EXIT = 128 + 9;

  @TempDir Path dataDir;
  private String adminSecret;
  private ExecutorService pool;

  @BeforeEach
  void setUp() {
    adminSecret = secret(ServerProcess.randomSecret());
    pool = Executors.newFixedThreadPool(8);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
  }

  private ServerProcess startSqlite() throws Exception {
    return start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", adminSecret), "--store", "sqlite");
  }

  @Test
  void redeem_afterKill9AndRestart_staysUsed_andEverythingElseAcknowledgedSurvives() throws Exception {
    ServerProcess first = startSqlite();
    String appKey = createKey(first, adminSecret, "durability app", "sessions:mint", "sessions:redeem", "keys:write");
    CreateApiKeyResponse doomed =
        first.stub(adminSecret)
            .createApiKey(CreateApiKeyRequest.newBuilder().setName("to be revoked").addScopes("sessions:mint").build());
    String doomedKey = secret(doomed.getSecret());
    RevokeResponse revoked =
        first.stub(adminSecret).revoke(RevokeRequest.newBuilder().setApiKeyId(doomed.getApiKey().getId()).build());
    assertThat(revoked.hasRevokeTime()).isTrue();
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REVOKED",
        () -> first.stub(doomedKey).getJwks(GetJwksRequest.getDefaultInstance()));

    MintSessionResponse a = mint(first, appKey, "user-a", 1);
    MintSessionResponse b = mint(first, appKey, "user-b", 1);
    RedeemResponse redeemedA = redeem(first, appKey, a.getToken());
    assertThat(redeemedA.getSessionId()).isEqualTo(a.getSessionId());
    assertThat(redeemedA.getUsesRemaining()).isZero();

    // The redeem was acknowledged: kill at once, no chance to flush anything.
    assertThat(first.kill9()).isEqualTo(SIGKILL_EXIT);
    assertThat(first.output()).doesNotContain("stopped");

    ServerProcess second = startSqlite();
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(second, appKey, a.getToken()));
    IntrospectResponse introspectedA =
        second.stub(appKey).introspect(IntrospectRequest.newBuilder().setToken(a.getToken()).build());
    assertThat(introspectedA.getActive()).isFalse();
    assertThat(introspectedA.getReason()).isEqualTo("TOKEN_ALREADY_USED");

    RedeemResponse redeemedB = redeem(second, appKey, b.getToken());
    assertThat(redeemedB.getSessionId()).isEqualTo(b.getSessionId());
    assertThat(redeemedB.getExternalUserId()).isEqualTo("user-b");
    assertThat(redeemedB.getUsesRemaining()).isZero();

    // The API key from before the kill still authenticates, and the signing key persisted.
    GetJwksResponse jwks = second.stub(appKey).getJwks(GetJwksRequest.getDefaultInstance());
    assertThat(jwks.getKeysList()).extracting(Jwk::getKid).contains(ServerProcess.kidOf(a.getToken()));
    // Nothing was rotated: the token minted after restart is signed with the same key.
    MintSessionResponse c = mint(second, appKey, "user-c", 1);
    assertThat(ServerProcess.kidOf(c.getToken())).isEqualTo(ServerProcess.kidOf(a.getToken()));

    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REVOKED",
        () -> second.stub(doomedKey).getJwks(GetJwksRequest.getDefaultInstance()));
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REVOKED",
        () -> mint(second, doomedKey, "user-d", 1));
  }

  @Test
  void redeem_200AcknowledgedFromManyThreads_afterKill9AndRestart_allStayUsed() throws Exception {
    ServerProcess first = startSqlite();
    String appKey = createKey(first, adminSecret, "durability loop", "sessions:mint", "sessions:redeem");

    int threads = 8;
    int perThread = 25;
    List<Future<List<String>>> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      workers.add(pool.submit(() -> {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < perThread; i++) {
          MintSessionResponse minted = mint(first, appKey, "loop-" + thread + "-" + i, 1);
          RedeemResponse redeemed = redeem(first, appKey, minted.getToken());
          assertThat(redeemed.getSessionId()).isEqualTo(minted.getSessionId());
          assertThat(redeemed.getUsesRemaining()).isZero();
          tokens.add(minted.getToken());
        }
        return tokens;
      }));
    }
    List<String> acknowledged = new ArrayList<>();
    for (Future<List<String>> worker : workers) {
      acknowledged.addAll(worker.get(60, TimeUnit.SECONDS));
    }
    // Right after the last acknowledgement.
    assertThat(first.kill9()).isEqualTo(SIGKILL_EXIT);
    assertThat(acknowledged).hasSize(threads * perThread).doesNotHaveDuplicates();

    ServerProcess second = startSqlite();
    List<Future<String>> checks = new ArrayList<>();
    for (String token : acknowledged) {
      checks.add(pool.submit(() -> {
        try {
          redeem(second, appKey, token);
          return "REDEEMED AGAIN";
        } catch (StatusRuntimeException e) {
          return e.getStatus().getCode() + " " + ServerProcess.reason(e);
        }
      }));
    }
    List<String> outcomes = new ArrayList<>();
    for (Future<String> check : checks) {
      outcomes.add(check.get(60, TimeUnit.SECONDS));
    }
    assertThat(outcomes).hasSize(threads * perThread).containsOnly("UNAUTHENTICATED TOKEN_ALREADY_USED");
  }
}
