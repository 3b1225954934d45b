package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import dev.tokenauthority.server.testing.TestPostgres;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.IntrospectRequest;
import dev.tokenauthority.v1.Jwk;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RedeemResponse;
import dev.tokenauthority.v1.RevokeRequest;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.RotateSigningKeyResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server processes on one PostgreSQL are one authority: keys, tokens, revocations, single
 * use and signing-key rotations hold across them, and a SIGKILL of one loses nothing it
 * acknowledged while the other goes on.
 */
class ReplicaIT extends ProcessTestBase {
  @TempDir Path dataDirA;
  @TempDir Path dataDirB;
  private String url;
  private String adminSecret;
  private ServerProcess a;
  private ServerProcess b;

  @BeforeEach
  void startTwoReplicasAtOnce() {
    url = TestPostgres.newDatabase();
    adminSecret = secret(ServerProcess.randomSecret());
    Map<String, String> env = Map.of("TOKEN_AUTHORITY_ADMIN_KEY", adminSecret, "TOKEN_AUTHORITY_STORE", url);
    // Both start against an empty database at the same moment: migrations, the default tenant,
    // the admin key and the first signing key are all raced for.
    try {
      a = launch(dataDirA, env);
      b = launch(dataDirB, env);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    a.awaitListening(ServerProcess.START_TIMEOUT);
    b.awaitListening(ServerProcess.START_TIMEOUT);
  }

  @AfterEach
  void dropDatabase() {
    TestPostgres.dropDatabase(url);
  }

  @Test
  void keyCreatedOnOne_worksOnTheOtherAtOnce_andTokensRedeemAcrossReplicas() {
    String minter = createKey(a, adminSecret, "backend", "sessions:mint", "sessions:redeem");

    MintSessionResponse minted = mint(b, minter, "rep_8842", 1);
    RedeemResponse redeemed = redeem(a, minter, minted.getToken());

    assertThat(redeemed.getSessionId()).isEqualTo(minted.getSessionId());
    assertThat(redeemed.getExternalUserId()).isEqualTo("rep_8842");
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(b, minter, minted.getToken()));
    assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(a, minter, minted.getToken()));
  }

  @Test
  void keyRevokedOnOne_isRefusedByTheOtherWithinOneSecond() throws Exception {
    String minter = createKey(a, adminSecret, "backend", "sessions:mint");
    String keyId = a.stub(adminSecret).listApiKeys(dev.tokenauthority.v1.ListApiKeysRequest.getDefaultInstance())
        .getApiKeysList().stream().filter(k -> k.getName().equals("backend")).findFirst().orElseThrow().getId();
    // B has just authenticated the key, so it is in B's cache when A revokes it.
    mint(b, minter, "rep_1", 1);

    a.stub(adminSecret).revoke(RevokeRequest.newBuilder().setApiKeyId(keyId).build());
    long revokedAt = System.nanoTime();

    long refusedAfterMillis = -1;
    while (System.nanoTime() - revokedAt < TimeUnit.SECONDS.toNanos(5)) {
      try {
        mint(b, minter, "rep_1", 1);
      } catch (StatusRuntimeException e) {
        assertThat(ServerProcess.reason(e)).isEqualTo("API_KEY_REVOKED");
        refusedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - revokedAt);
        break;
      }
      Thread.sleep(20);
    }
    assertThat(refusedAfterMillis).as("ms from the revoke's acknowledgement to B's first refusal")
        .isBetween(0L, 1000L);
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> mint(b, minter, "rep_1", 1));
    assertFails(Status.Code.UNAUTHENTICATED, "API_KEY_REVOKED", () -> mint(a, minter, "rep_1", 1));
  }

  @Test
  void hundredsOfConcurrentRedeemsOverBothReplicas_exactlyMaxUsesSucceed() throws Exception {
    String minter = createKey(a, adminSecret, "backend", "sessions:mint", "sessions:redeem");
    int[] maxUses = {1, 3, 7, 50};
    int attemptsPerToken = 300;
    for (int uses : maxUses) {
      String token = mint(a, minter, "rep_" + uses, uses).getToken();
      List<ListenableFuture<RedeemResponse>> calls = new ArrayList<>();
      for (int i = 0; i < attemptsPerToken; i++) {
        ServerProcess replica = i % 2 == 0 ? a : b;
        calls.add(replica.futureStub(minter).redeem(RedeemRequest.newBuilder().setToken(token).build()));
      }
      int succeeded = 0;
      Set<Integer> remaining = ConcurrentHashMap.newKeySet();
      Map<String, Integer> refusals = new ConcurrentHashMap<>();
      for (ListenableFuture<RedeemResponse> call : calls) {
        try {
          remaining.add(call.get(30, TimeUnit.SECONDS).getUsesRemaining());
          succeeded++;
        } catch (ExecutionException e) {
          refusals.merge(ServerProcess.reason(e.getCause()), 1, Integer::sum);
        }
      }
      assertThat(succeeded).as("successful redeems of a token with max_uses %d", uses).isEqualTo(uses);
      assertThat(refusals).as("refusals").containsOnlyKeys("TOKEN_ALREADY_USED");
      // Each success consumed its own use: uses_remaining counts down without repeats.
      assertThat(remaining).hasSize(uses).allSatisfy(r -> assertThat(r).isBetween(0, uses - 1));
    }
  }

  @Test
  void rotationOnOne_isUsedByTheOtherWithinFiveSeconds_andOldTokensKeepVerifying() throws Exception {
    String minter = createKey(a, adminSecret, "backend", "sessions:mint", "sessions:redeem");
    MintSessionResponse old = mint(b, minter, "rep_old", 2);
    String oldKid = ServerProcess.kidOf(old.getToken());

    RotateSigningKeyResponse rotated = a.tenantAdmin(adminSecret).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
    long rotatedAt = System.nanoTime();
    assertThat(rotated.getKid()).isNotEqualTo(oldKid);
    assertThat(ServerProcess.kidOf(mint(a, minter, "rep_a", 1).getToken())).isEqualTo(rotated.getKid());

    long usedAfterMillis = -1;
    while (System.nanoTime() - rotatedAt < TimeUnit.SECONDS.toNanos(10)) {
      if (ServerProcess.kidOf(mint(b, minter, "rep_b", 1).getToken()).equals(rotated.getKid())) {
        usedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - rotatedAt);
        break;
      }
      Thread.sleep(50);
    }
    assertThat(usedAfterMillis).as("ms until B signs with the key A made active").isBetween(0L, 5000L);

    // Both keys are published by both replicas, and the old token still verifies on each.
    for (ServerProcess replica : List.of(a, b)) {
      assertThat(replica.stub(minter).getJwks(GetJwksRequest.getDefaultInstance()).getKeysList())
          .extracting(Jwk::getKid)
          .contains(oldKid, rotated.getKid());
      assertThat(replica.stub(minter).introspect(IntrospectRequest.newBuilder().setToken(old.getToken()).build()).getActive())
          .isTrue();
    }
    assertThat(redeem(a, minter, old.getToken()).getUsesRemaining()).isEqualTo(1);
    assertThat(redeem(b, minter, old.getToken()).getUsesRemaining()).isZero();
  }

  @Test
  void rotateSigningKey_withoutAdminScope_isScopeNotGranted() {
    String minter = createKey(a, adminSecret, "backend", "sessions:mint", "keys:write");
    assertFails(Status.Code.PERMISSION_DENIED, "SCOPE_NOT_GRANTED",
        () -> b.tenantAdmin(minter).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance()));
  }

  @Test
  void kill9OfOneReplica_losesNoAcknowledgedRedeem_andTheOtherGoesOn() throws Exception {
    String minter = createKey(a, adminSecret, "backend", "sessions:mint", "sessions:redeem");
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      tokens.add(mint(i % 2 == 0 ? a : b, minter, "rep_" + i, 1).getToken());
    }
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicBoolean killed = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        int worker = w;
        workers.add(pool.submit(() -> {
          for (int i = worker; i < tokens.size() && !killed.get(); i += 8) {
            try {
              redeem(a, minter, tokens.get(i));
              acknowledged.add(tokens.get(i));
            } catch (StatusRuntimeException e) {
              return; // A is gone
            }
          }
        }));
      }
      while (acknowledged.size() < 100) {
        Thread.sleep(1);
      }
      a.kill9();
      killed.set(true);
      for (Future<?> f : workers) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(100);
    for (String token : acknowledged) {
      assertFails(Status.Code.UNAUTHENTICATED, "TOKEN_ALREADY_USED", () -> redeem(b, minter, token));
    }
    // B goes on: it mints and redeems, and the tokens A never got to redeem are still good.
    String fresh = mint(b, minter, "rep_after", 1).getToken();
    assertThat(redeem(b, minter, fresh).getUsesRemaining()).isZero();
    String last = tokens.get(tokens.size() - 1); // each worker got through a quarter of its tokens at most
    assertThat(acknowledged).doesNotContain(last);
    assertThat(redeem(b, minter, last).getExternalUserId()).isEqualTo("rep_399");
  }

  @Test
  void bothReplicasReportServing() {
    for (ServerProcess replica : List.of(a, b)) {
      assertThat(replica.health().check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    }
    assertThat(a.output()).contains("store postgres at");
  }
}
