package dev.tokenauthority.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.apikey.ApiKeyService;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.testing.TestClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Single use and quotas under random interleavings of mint, redeem (alone and raced from
 * several threads), revoke, suspend and resume, on the domain services over the memory and
 * SQLite stores. A model of what must happen is kept beside the real thing and every step is
 * compared with it: a token redeems exactly as often as its {@code max_uses} allows, never
 * after it was revoked or while its tenant is suspended, and a tenant's redemptions never pass
 * its monthly quota. Each run is drawn from a seed that names the test case, so a failure is
 * replayed by running that case again; tries are few, to keep the suite fast. (Plain JUnit
 * rather than a property-testing engine: a seeded generator of a few lines does what we need.)
 */
class SessionInvariantsPropertyTest {
  private static final String TENANT = "acme";

  /** One step of a run. {@code token} picks among the tokens minted so far (modulo their count). */
  sealed interface Step permits Mint, Redeem, Race, Revoke, Suspend, Resume {}

  record Mint(int maxUses) implements Step {}

  record Redeem(int token) implements Step {}

  record Race(int token, int threads) implements Step {}

  record Revoke(int token) implements Step {}

  record Suspend() implements Step {}

  record Resume() implements Step {}

  /** A random run: its steps and the tenant's monthly quota, all drawn from {@code seed}. */
  record Run(long seed, List<Step> steps, int quota) {
    static Run of(long seed) {
      SplittableRandom random = new SplittableRandom(seed);
      int count = random.nextInt(1, 31);
      List<Step> steps = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        steps.add(step(random));
      }
      return new Run(seed, List.copyOf(steps), random.nextInt(1, 13));
    }

    /** One step, weighted as a backend's traffic: mostly mints and redeems, now and then the rest. */
    private static Step step(SplittableRandom random) {
      int pick = random.nextInt(16);
      int token = random.nextInt(1001);
      if (pick < 5) {
        return new Mint(random.nextInt(1, 4));
      } else if (pick < 11) {
        return new Redeem(token);
      } else if (pick < 13) {
        return new Race(token, random.nextInt(2, 5));
      } else if (pick < 14) {
        return new Revoke(token);
      } else if (pick < 15) {
        return new Suspend();
      }
      return new Resume();
    }

    @Override
    public String toString() {
      return "seed " + seed;
    }
  }

  static Stream<Run> memoryRuns() {
    return LongStream.rangeClosed(1, 60).mapToObj(Run::of);
  }

  static Stream<Run> sqliteRuns() {
    return LongStream.rangeClosed(1001, 1012).mapToObj(Run::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("memoryRuns")
  void memoryStore_randomInterleavings_keepSingleUseAndQuota(Run run) throws Exception {
    check(MemoryStore::new, run.steps(), run.quota());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sqliteRuns")
  void sqliteStore_randomInterleavings_keepSingleUseAndQuota(Run run) throws Exception {
    Path dir = Files.createTempDirectory("ta-prop-");
    try {
      check(() -> SqliteStores.open(dir, Duration.ofSeconds(10)), run.steps(), run.quota());
    } finally {
      deleteTree(dir);
    }
  }

  /** What must hold about one minted token. */
  private static final class ModelToken {
    final String token;
    final String sessionId;
    final int maxUses;
    int redeemed;
    boolean revoked;

    ModelToken(String token, String sessionId, int maxUses) {
      this.token = token;
      this.sessionId = sessionId;
      this.maxUses = maxUses;
    }
  }

  private void check(Supplier<Store> stores, List<Step> steps, int quota) throws Exception {
    TestClock clock = new TestClock();
    try (Store store = stores.get()) {
      Authority authority = new Authority(store, Authority.Settings.defaults(), clock);
      String adminSecret = authority.ensureAdminKey(Optional.empty()).orElseThrow();
      Caller admin = authority.apiKeys().authenticate(adminSecret);
      authority.tenantService().create(tenant(Tenant.Status.ACTIVE, quota));
      String secret = authority.apiKeys().create(admin, new ApiKeyService.NewKey(
          TENANT, "backend", null, List.of("sessions:mint", "sessions:redeem"), List.of())).secret();
      Caller backend = authority.apiKeys().authenticate(secret);
      SessionService sessions = authority.sessions();

      List<ModelToken> tokens = new ArrayList<>();
      boolean suspended = false;
      int redeemedThisMonth = 0;
      for (Step step : steps) {
        if (step instanceof Mint mint) {
          Optional<ErrorReason> refusal = attempt(() -> {
            SessionService.Minted m = sessions.mint(backend, new SessionService.MintRequest(
                "user", "", "", 0, mint.maxUses(), List.of(), "", new byte[0], 0, false, ""));
            tokens.add(new ModelToken(m.token(), m.session().id(), mint.maxUses()));
          });
          if (suspended) {
            assertThat(refusal).as("mint while suspended").contains(ErrorReason.TENANT_SUSPENDED);
          } else if (redeemedThisMonth >= quota) {
            // A tenant past its quota may be refused mints, or not yet (the count is cached).
            assertThat(refusal).as("mint past the quota").isIn(Optional.empty(), Optional.of(ErrorReason.QUOTA_EXCEEDED));
          } else {
            assertThat(refusal).as("mint").isEmpty();
          }
        } else if (step instanceof Redeem redeem && !tokens.isEmpty()) {
          ModelToken t = tokens.get(redeem.token() % tokens.size());
          Optional<ErrorReason> refusal = attempt(() -> sessions.redeem(backend, t.token, "", ""));
          if (refusal.isEmpty()) {
            t.redeemed++;
            redeemedThisMonth++;
          }
          assertThat(refusal).as("redeem of %s (used %d of %d, revoked %s, suspended %s, month %d of %d)",
                  t.sessionId, t.redeemed, t.maxUses, t.revoked, suspended, redeemedThisMonth, quota)
              .isEqualTo(expected(t, suspended, redeemedThisMonth, quota, refusal.isEmpty()));
        } else if (step instanceof Race race && !tokens.isEmpty()) {
          ModelToken t = tokens.get(race.token() % tokens.size());
          int allowed = suspended || t.revoked ? 0 : Math.min(race.threads(), Math.min(t.maxUses - t.redeemed, quota - redeemedThisMonth));
          int succeeded = raceRedeems(sessions, backend, t.token, race.threads());
          assertThat(succeeded).as("concurrent redeems of %s by %d threads", t.sessionId, race.threads()).isEqualTo(Math.max(0, allowed));
          t.redeemed += succeeded;
          redeemedThisMonth += succeeded;
        } else if (step instanceof Revoke revoke && !tokens.isEmpty()) {
          ModelToken t = tokens.get(revoke.token() % tokens.size());
          sessions.revokeById(backend, t.sessionId);
          t.revoked = true;
        } else if (step instanceof Suspend) {
          authority.tenantService().update(tenant(Tenant.Status.SUSPENDED, quota), List.of("status"));
          suspended = true;
        } else if (step instanceof Resume) {
          authority.tenantService().update(tenant(Tenant.Status.ACTIVE, quota), List.of("status"));
          suspended = false;
        }
        for (ModelToken t : tokens) {
          assertThat(t.redeemed).as("uses of %s", t.sessionId).isLessThanOrEqualTo(t.maxUses);
        }
        assertThat(redeemedThisMonth).as("redemptions this month").isLessThanOrEqualTo(quota);
      }
    }
  }

  /**
   * The refusal a redeem must get, given the model before it ({@code succeeded}: the model was
   * already advanced by a success, so undo it to judge).
   */
  private static Optional<ErrorReason> expected(ModelToken t, boolean suspended, int month, int quota, boolean succeeded) {
    int usedBefore = succeeded ? t.redeemed - 1 : t.redeemed;
    int monthBefore = succeeded ? month - 1 : month;
    if (suspended) {
      return Optional.of(ErrorReason.TENANT_SUSPENDED);
    }
    if (t.revoked) {
      return Optional.of(ErrorReason.TOKEN_REVOKED);
    }
    if (usedBefore >= t.maxUses) {
      return Optional.of(ErrorReason.TOKEN_ALREADY_USED);
    }
    if (monthBefore >= quota) {
      return Optional.of(ErrorReason.QUOTA_EXCEEDED);
    }
    return Optional.empty();
  }

  private static int raceRedeems(SessionService sessions, Caller caller, String token, int threads) {
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger succeeded = new AtomicInteger();
    List<CompletableFuture<Void>> all = Stream.generate(() -> CompletableFuture.runAsync(() -> {
          try {
            start.await();
            sessions.redeem(caller, token, "", "");
            succeeded.incrementAndGet();
          } catch (AuthorityException e) {
            // refused: counted by the model
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, runnable -> new Thread(runnable).start()))
        .limit(threads)
        .toList();
    start.countDown();
    all.forEach(CompletableFuture::join);
    return succeeded.get();
  }

  private static Optional<ErrorReason> attempt(Runnable call) {
    try {
      call.run();
      return Optional.empty();
    } catch (AuthorityException e) {
      return Optional.of(e.reason());
    }
  }

  private static Tenant tenant(Tenant.Status status, int quota) {
    return new Tenant(TENANT, "Acme", status, Tenant.SubscriptionStatus.ACTIVE, List.of(), 0, 0, 0, 0, quota, null, null);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
