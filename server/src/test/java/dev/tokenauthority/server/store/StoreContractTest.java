package dev.tokenauthority.server.store;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokenauthority.server.apikey.ApiKey;
import dev.tokenauthority.server.apikey.ApiKeyStore.ApiKeyCursor;
import dev.tokenauthority.server.error.Completions;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionStore.ConsumeResult;
import dev.tokenauthority.server.session.SessionStore.Outcome;
import dev.tokenauthority.server.session.SessionStore.QuotaCharge;
import dev.tokenauthority.server.session.SessionStore.RedeemCheck;
import dev.tokenauthority.server.session.SessionStore.Redemption;
import dev.tokenauthority.server.ratelimit.Gcra;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.tenant.Tenant;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every {@link Store} must show, run against each implementation by a small
 * subclass that supplies a fresh, empty store (and, for a persistent store, a way to reopen it).
 */
public abstract class StoreContractTest {
  public static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Instant LATER = T0.plus(Duration.ofHours(1));
  protected static final String TENANT = "tenant-a";
  protected static final int THREADS = 64;

  /** The store under test; replaced by {@link #reopenStore()}. */
  protected Store store;

  /** A new, empty store. Called before every test. */
  protected abstract Store newStore() throws Exception;

  /** Whether the store keeps its data across {@link #reopen}; persistence tests are skipped otherwise. */
  protected boolean persists() {
    return false;
  }

  /** Closes {@code current} and opens the same store again over the same data. */
  protected Store reopen(Store current) throws Exception {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not persist");
  }

  @BeforeEach
  void openStore() throws Exception {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  /** Stores a session, waiting until it is committed. */
  protected final void insertSession(Session session) {
    Completions.join(store.sessions().insertSession(session));
  }

  /** Consumes a use without a quota, waiting until it is committed. */
  protected final ConsumeResult consume(String id, Instant now) {
    return consume(id, now, null);
  }

  /** Consumes a use, charging {@code quota}, waiting until it is committed. */
  protected final ConsumeResult consume(String id, Instant now, QuotaCharge quota) {
    return Completions.join(store.sessions().consumeSessionUse(id, now, quota));
  }

  /** Inserts key {@code key-1} and, minted by it, a session {@code ses-<thread>} for each of the {@link #THREADS}. */
  protected final List<Session> insertSessionPerThread(int maxUses) {
    insertKey("key-1");
    List<Session> sessions = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) {
      Session s = session("ses-" + i, "key-1", maxUses, LATER);
      insertSession(s);
      sessions.add(s);
    }
    return sessions;
  }

  /** A redeem's lookup, check and consume, waiting until it is committed. */
  protected final Redemption redeem(String id, SecretHash tokenHash, RedeemCheck check, Instant now, QuotaCharge quota) {
    return Completions.join(store.sessions().redeemSessionUse(id, tokenHash, check, now, quota));
  }

  /** Records a key's use, waiting until it is committed. */
  protected final void recordApiKeyUse(String id, Instant time) {
    Completions.join(store.apiKeys().recordApiKeyUse(id, time));
  }

  /** Reopens {@link #store} in place. */
  protected final void reopenStore() throws Exception {
    Store current = store;
    store = null;
    store = reopen(current);
  }

  // ---------------------------------------------------------------------------------------
  // Tenants

  @Test
  void findTenant_afterInsert_returnsEveryField() {
    Tenant tenant =
        new Tenant(
            "acme", "Acme Corp", Tenant.Status.SUSPENDED, Tenant.SubscriptionStatus.PAST_DUE,
            List.of("sessions", "billing", "audit"), 600, 7200, 120, 30, 50_000,
            T0.plusMillis(1), T0.plusMillis(2));

    assertThat(store.tenants().insertTenant(tenant)).isTrue();

    assertThat(store.tenants().findTenant("acme")).contains(tenant);
  }

  @Test
  void findTenant_unknownId_isEmpty() {
    store.tenants().insertTenant(tenant("acme"));

    assertThat(store.tenants().findTenant("other")).isEmpty();
  }

  @Test
  void insertTenant_duplicateId_returnsFalseAndKeepsOriginal() {
    Tenant original = tenant("acme");
    store.tenants().insertTenant(original);
    Tenant impostor = renamed(original, "Impostor");

    assertThat(store.tenants().insertTenant(impostor)).isFalse();

    assertThat(store.tenants().findTenant("acme")).contains(original);
    assertThat(store.tenants().listTenants("", 10)).containsExactly(original);
  }

  @Test
  void updateTenant_existing_replacesStoredTenant() {
    Tenant stored = tenant("acme");
    store.tenants().insertTenant(stored);
    Tenant updated =
        new Tenant(
            "acme", "Acme Renamed", Tenant.Status.INACTIVE, Tenant.SubscriptionStatus.CANCELLED,
            List.of("audit"), 60, 120, 1, 2, 3, T0, T0.plusSeconds(10));

    assertThat(store.tenants().updateTenant(stored, updated)).isTrue();

    assertThat(store.tenants().findTenant("acme")).contains(updated);
  }

  @Test
  void updateTenant_changedSinceRead_returnsFalseAndKeepsTheOtherUpdate() {
    Tenant read = tenant("acme");
    store.tenants().insertTenant(read);
    Tenant suspended = new Tenant("acme", read.displayName(), Tenant.Status.SUSPENDED, read.subscriptionStatus(),
        read.enabledModules(), 0, 0, 0, 0, 0, read.createTime(), read.updateTime().plusMillis(1));
    assertThat(store.tenants().updateTenant(read, suspended)).isTrue();

    Tenant renamedFromTheOldRead = renamed(read, "Acme Renamed");
    assertThat(store.tenants().updateTenant(read, renamedFromTheOldRead)).isFalse();

    assertThat(store.tenants().findTenant("acme")).contains(suspended);
  }

  @Test
  void updateTenant_missing_returnsFalseAndStoresNothing() {
    Tenant ghost = tenant("ghost");
    assertThat(store.tenants().updateTenant(ghost, ghost)).isFalse();

    assertThat(store.tenants().findTenant("ghost")).isEmpty();
    assertThat(store.tenants().listTenants("", 10)).isEmpty();
  }

  @Test
  void listTenants_fromStart_returnsByIdUpToLimit() {
    for (String id : List.of("delta", "alpha", "echo", "charlie", "bravo")) {
      store.tenants().insertTenant(tenant(id));
    }

    assertThat(store.tenants().listTenants("", 3)).extracting(Tenant::id).containsExactly("alpha", "bravo", "charlie");
    assertThat(store.tenants().listTenants("", 100))
        .extracting(Tenant::id)
        .containsExactly("alpha", "bravo", "charlie", "delta", "echo");
  }

  @Test
  void listTenants_pagedByAfterId_returnsEachTenantOnceInOrder() {
    List<String> ids = new ArrayList<>(IntStream.range(0, 11).mapToObj(i -> "t" + (char) ('a' + i)).toList());
    Collections.shuffle(ids, new Random(7));
    ids.forEach(id -> store.tenants().insertTenant(tenant(id)));

    List<String> seen = new ArrayList<>();
    String after = "";
    for (int pages = 0; pages < 20; pages++) {
      List<Tenant> page = store.tenants().listTenants(after, 3);
      assertThat(page).hasSizeLessThanOrEqualTo(3);
      if (page.isEmpty()) {
        break;
      }
      page.forEach(t -> seen.add(t.id()));
      after = page.get(page.size() - 1).id();
    }

    assertThat(seen).containsExactlyElementsOf(ids.stream().sorted().toList());
    assertThat(store.tenants().listTenants("tc", 2)).extracting(Tenant::id).containsExactly("td", "te");
    assertThat(store.tenants().listTenants("tk", 5)).isEmpty();
  }

  // ---------------------------------------------------------------------------------------
  // API keys

  @Test
  void findApiKey_afterInsert_roundTripsEveryField() {
    ApiKey key =
        new ApiKey(
            "key-1", TENANT, "CI deploy key", List.of("sessions:mint", "admin", "keys:read"),
            List.of("https://b.example.com", "https://a.example.com"), SecretHash.of("secret-1"), "ta_…Xy9Z",
            T0.plusMillis(123), T0.plusSeconds(86_400).plusMillis(7), T0.plusSeconds(60).plusMillis(5),
            T0.plusSeconds(120).plusMillis(9));

    store.apiKeys().insertApiKey(key);

    assertThat(store.apiKeys().findApiKey("key-1")).hasValueSatisfying(found -> assertSameKey(found, key));
  }

  @Test
  void insertApiKey_sameSecretOrIdAgain_returnsFalseAndKeepsTheFirst() {
    ApiKey first = apiKey("key-1", TENANT, T0);
    assertThat(store.apiKeys().insertApiKey(first)).isTrue();
    ApiKey sameSecret =
        new ApiKey("key-2", TENANT, "impostor", List.of("admin"), List.of(), first.secretHash(), "", T0, null, null, null);
    ApiKey sameId =
        new ApiKey("key-1", "tenant-b", "impostor", List.of("admin"), List.of(), SecretHash.of("other"), "", T0, null, null, null);

    assertThat(store.apiKeys().insertApiKey(sameSecret)).isFalse();
    assertThat(store.apiKeys().insertApiKey(sameId)).isFalse();

    assertThat(store.apiKeys().findApiKey("key-2")).isEmpty();
    assertThat(store.apiKeys().findApiKeyBySecretHash(first.secretHash())).hasValueSatisfying(k -> assertSameKey(k, first));
    assertThat(store.apiKeys().findApiKey("key-1")).hasValueSatisfying(k -> assertSameKey(k, first));
    assertThat(store.apiKeys().findApiKeyBySecretHash(SecretHash.of("other"))).isEmpty();
  }

  @Test
  void findApiKey_unsetOptionalTimesAndEmptyLists_roundTripAsNullAndEmpty() {
    ApiKey key =
        new ApiKey("key-1", TENANT, "bare", List.of(), List.of(), SecretHash.of("secret-1"), "", T0, null, null, null);

    store.apiKeys().insertApiKey(key);

    ApiKey found = store.apiKeys().findApiKey("key-1").orElseThrow();
    assertSameKey(found, key);
    assertThat(found.expireTime()).isNull();
    assertThat(found.lastUsedTime()).isNull();
    assertThat(found.revokeTime()).isNull();
    assertThat(found.scopes()).isEmpty();
    assertThat(found.allowedOrigins()).isEmpty();
  }

  @Test
  void findApiKey_unknownId_isEmpty() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));

    assertThat(store.apiKeys().findApiKey("key-2")).isEmpty();
  }

  @Test
  void findApiKeyBySecretHash_equalDigest_findsKey() {
    ApiKey key = apiKey("key-1", TENANT, T0);
    store.apiKeys().insertApiKey(key);
    store.apiKeys().insertApiKey(apiKey("key-2", TENANT, T0));

    // A separately computed hash of the same secret, as a caller presenting the secret would have.
    SecretHash presented = SecretHash.fromDigest(SecretHash.of(secretOf("key-1")).digest());

    assertThat(store.apiKeys().findApiKeyBySecretHash(presented)).hasValueSatisfying(found -> assertSameKey(found, key));
  }

  @Test
  void findApiKeyBySecretHash_otherDigest_isEmpty() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));

    assertThat(store.apiKeys().findApiKeyBySecretHash(SecretHash.of(secretOf("key-1") + "x"))).isEmpty();
  }

  @Test
  void findApiKeyBySecretHash_revokedKey_isStillFoundWithRevokeTime() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));
    store.apiKeys().revokeApiKey("key-1", T0.plusSeconds(5));

    assertThat(store.apiKeys().findApiKeyBySecretHash(SecretHash.of(secretOf("key-1"))))
        .hasValueSatisfying(found -> assertThat(found.revokeTime()).isEqualTo(T0.plusSeconds(5)));
  }

  @Test
  void listApiKeys_severalKeys_inCreationOrderThenId() {
    store.apiKeys().insertApiKey(apiKey("key-c", TENANT, T0.plusSeconds(2)));
    store.apiKeys().insertApiKey(apiKey("key-z", TENANT, T0.plusSeconds(1)));
    store.apiKeys().insertApiKey(apiKey("key-b", TENANT, T0.plusSeconds(2)));
    store.apiKeys().insertApiKey(apiKey("key-y", TENANT, T0));
    store.apiKeys().insertApiKey(apiKey("key-a", TENANT, T0.plusSeconds(2)));

    assertThat(store.apiKeys().listApiKeys(TENANT, null, 100))
        .extracting(ApiKey::id)
        .containsExactly("key-y", "key-z", "key-a", "key-b", "key-c");
    assertThat(store.apiKeys().listApiKeys(TENANT, null, 2)).extracting(ApiKey::id).containsExactly("key-y", "key-z");
  }

  @Test
  void listApiKeys_revokedKey_isExcluded() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));
    store.apiKeys().insertApiKey(apiKey("key-2", TENANT, T0.plusSeconds(1)));
    store.apiKeys().insertApiKey(apiKey("key-3", TENANT, T0.plusSeconds(2)));

    store.apiKeys().revokeApiKey("key-2", T0.plusSeconds(10));

    assertThat(store.apiKeys().listApiKeys(TENANT, null, 100)).extracting(ApiKey::id).containsExactly("key-1", "key-3");
  }

  @Test
  void listApiKeys_otherTenantsKeys_areExcluded() {
    store.apiKeys().insertApiKey(apiKey("key-a1", "tenant-a", T0));
    store.apiKeys().insertApiKey(apiKey("key-b1", "tenant-b", T0));
    store.apiKeys().insertApiKey(apiKey("key-a2", "tenant-a", T0.plusSeconds(1)));

    assertThat(store.apiKeys().listApiKeys("tenant-a", null, 100)).extracting(ApiKey::id).containsExactly("key-a1", "key-a2");
    assertThat(store.apiKeys().listApiKeys("tenant-b", null, 100)).extracting(ApiKey::id).containsExactly("key-b1");
    assertThat(store.apiKeys().listApiKeys("tenant-c", null, 100)).isEmpty();
  }

  @Test
  void listApiKeys_cursorPagingWithSharedCreateTimes_returnsEveryKeyOnceInOrder() {
    // 15 keys over 3 create times, inserted shuffled, plus a revoked one and another tenant's.
    List<ApiKey> keys = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      keys.add(apiKey(String.format("key-%02d", (i * 7) % 15), TENANT, T0.plusMillis(i % 3)));
    }
    Collections.shuffle(keys, new Random(42));
    keys.forEach(store.apiKeys()::insertApiKey);
    store.apiKeys().insertApiKey(apiKey("key-revoked", TENANT, T0.plusMillis(1)));
    store.apiKeys().revokeApiKey("key-revoked", T0.plusSeconds(1));
    store.apiKeys().insertApiKey(apiKey("key-other", "tenant-b", T0.plusMillis(1)));
    List<String> expected =
        keys.stream()
            .sorted(Comparator.comparing(ApiKey::createTime).thenComparing(ApiKey::id))
            .map(ApiKey::id)
            .toList();

    for (int pageSize = 1; pageSize <= 6; pageSize++) {
      List<String> seen = new ArrayList<>();
      ApiKeyCursor after = null;
      for (int pages = 0; pages < 100; pages++) {
        List<ApiKey> page = store.apiKeys().listApiKeys(TENANT, after, pageSize);
        assertThat(page).hasSizeLessThanOrEqualTo(pageSize);
        if (page.isEmpty()) {
          break;
        }
        page.forEach(k -> seen.add(k.id()));
        ApiKey last = page.get(page.size() - 1);
        after = new ApiKeyCursor(last.createTime(), last.id());
      }
      assertThat(seen).as("ids listed with page size %d", pageSize).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void revokeApiKey_activeKey_returnsRevokeTimeAndStoresIt() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));
    Instant revokeAt = T0.plusSeconds(30).plusMillis(250);

    assertThat(store.apiKeys().revokeApiKey("key-1", revokeAt)).contains(revokeAt);

    ApiKey found = store.apiKeys().findApiKey("key-1").orElseThrow();
    assertThat(found.revokeTime()).isEqualTo(revokeAt);
    assertThat(found.isRevoked()).isTrue();
  }

  @Test
  void revokeApiKey_secondTime_returnsFirstRevokeTime() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));
    Instant first = T0.plusSeconds(30);
    store.apiKeys().revokeApiKey("key-1", first);

    assertThat(store.apiKeys().revokeApiKey("key-1", T0.plusSeconds(90))).contains(first);

    assertThat(store.apiKeys().findApiKey("key-1").orElseThrow().revokeTime()).isEqualTo(first);
  }

  @Test
  void revokeApiKey_unknownId_isEmpty() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));

    assertThat(store.apiKeys().revokeApiKey("key-2", T0.plusSeconds(30))).isEmpty();

    assertThat(store.apiKeys().findApiKey("key-2")).isEmpty();
    assertThat(store.apiKeys().findApiKey("key-1").orElseThrow().revokeTime()).isNull();
  }

  @Test
  void recordApiKeyUse_neverUsed_setsLastUsedTime() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));
    Instant used = T0.plusSeconds(5).plusMillis(321);

    recordApiKeyUse("key-1", used);

    assertThat(store.apiKeys().findApiKey("key-1").orElseThrow().lastUsedTime()).isEqualTo(used);
  }

  @Test
  void recordApiKeyUse_laterThenEarlierTime_keepsLatest() {
    store.apiKeys().insertApiKey(apiKey("key-1", TENANT, T0));
    recordApiKeyUse("key-1", T0.plusSeconds(10));
    recordApiKeyUse("key-1", T0.plusSeconds(20));

    recordApiKeyUse("key-1", T0.plusSeconds(15));

    assertThat(store.apiKeys().findApiKey("key-1").orElseThrow().lastUsedTime()).isEqualTo(T0.plusSeconds(20));
  }

  @Test
  void recordApiKeyUse_unknownId_createsNothing() {
    recordApiKeyUse("ghost", T0);

    assertThat(store.apiKeys().findApiKey("ghost")).isEmpty();
  }

  // ---------------------------------------------------------------------------------------
  // Sessions

  @Test
  void findSession_afterInsert_roundTripsEveryField() {
    insertKey("key-1");
    Session session = fullSession("key-1");

    insertSession(session);

    assertThat(store.sessions().findSession(session.id())).hasValueSatisfying(found -> assertSameSession(found, session));
  }

  @Test
  void findSessionForToken_equalDigest_roundTripsEveryField() {
    insertKey("key-1");
    Session session = fullSession("key-1");
    insertSession(session);
    insertSession(session("ses-other", "key-1", 1, LATER));

    SecretHash presented = SecretHash.fromDigest(SecretHash.of("token-of-full-session").digest());

    assertThat(store.sessions().findSessionForToken(session.id(), presented).join())
        .hasValueSatisfying(found -> assertSameSession(found, session));
  }

  @Test
  void findSessionForToken_otherDigest_isEmpty() {
    insertKey("key-1");
    Session session = session("ses-1", "key-1", 1, LATER);
    insertSession(session);

    assertThat(store.sessions().findSessionForToken("ses-1", SecretHash.of("not-a-token")).join()).isEmpty();
    assertThat(store.sessions().findSessionForToken("ses-1", session.tokenHash()).join()).isPresent();
  }

  @Test
  void findSessionForToken_digestOfAnotherSession_isEmpty() {
    insertKey("key-1");
    Session one = session("ses-1", "key-1", 1, LATER);
    Session two = session("ses-2", "key-1", 1, LATER);
    insertSession(one);
    insertSession(two);

    assertThat(store.sessions().findSessionForToken("ses-1", two.tokenHash()).join()).isEmpty();
    assertThat(store.sessions().findSessionForToken("ses-unknown", one.tokenHash()).join()).isEmpty();
  }

  // ---------------------------------------------------------------------------------------
  // A redeem's lookup, check and consume together

  @Test
  void redeemSessionUse_checkAccepts_takesAUseAndReturnsTheStoredSession() {
    insertKey("key-1");
    Session session = fullSession("key-1");
    insertSession(session);
    List<Session> checked = new ArrayList<>();

    Redemption r = redeem(session.id(), session.tokenHash(), checked::add, T0, null);

    assertThat(r.refusal()).isNull();
    assertSameSession(r.session(), session);
    assertThat(checked).singleElement().satisfies(s -> assertSameSession(s, session));
    assertThat(r.consumed()).isEqualTo(ConsumeResult.consumed(session.maxUses() - 1));
    assertThat(store.sessions().findSession(session.id()).orElseThrow().usesRemaining()).isEqualTo(session.maxUses() - 1);
  }

  @Test
  void redeemSessionUse_otherDigestOrUnknownId_isNotFound_withoutRunningTheCheck() {
    insertKey("key-1");
    Session one = session("ses-1", "key-1", 1, LATER);
    Session two = session("ses-2", "key-1", 1, LATER);
    insertSession(one);
    insertSession(two);
    List<Session> checked = new ArrayList<>();

    assertThat(redeem("ses-1", two.tokenHash(), checked::add, T0, null)).isEqualTo(Redemption.notFound());
    assertThat(redeem("ses-unknown", one.tokenHash(), checked::add, T0, null)).isEqualTo(Redemption.notFound());

    assertThat(checked).isEmpty();
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isEqualTo(1);
  }

  @Test
  void redeemSessionUse_checkRefuses_reportsItsRefusalAndTakesNoUse() {
    insertKey("key-1");
    Session session = session("ses-1", "key-1", 1, LATER);
    insertSession(session);
    IllegalStateException no = new IllegalStateException("not this one");

    Redemption r =
        redeem(
            "ses-1", session.tokenHash(), s -> {
              throw no;
            }, T0, new QuotaCharge(TENANT, "2026-01", 5));

    assertThat(r.refusal()).isSameAs(no);
    assertThat(r.consumed()).isNull();
    assertThat(r.session().id()).isEqualTo("ses-1");
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isEqualTo(1);
    assertThat(store.sessions().countRedemptions(TENANT, "2026-01")).isZero();
  }

  @Test
  void redeemSessionUse_seesTheLastConsumeAndRevoke_andRefusesAsTheConsumeDoes() {
    // The lookup may run elsewhere than an inspection's (SQLite: on the writer) and must show
    // the same committed state: the use taken, then the revocation.
    insertKey("key-1");
    Session session = session("ses-1", "key-1", 3, LATER);
    insertSession(session);
    assertThat(consume("ses-1", T0)).isEqualTo(ConsumeResult.consumed(2));
    List<Session> checked = new ArrayList<>();

    Redemption second = redeem("ses-1", session.tokenHash(), checked::add, T0, null);
    store.sessions().revokeSession("ses-1", T0);
    Redemption afterRevoke = redeem("ses-1", session.tokenHash(), checked::add, T0, null);

    assertThat(checked).extracting(Session::usesRemaining).containsExactly(2, 1);
    assertThat(checked).extracting(Session::revokeTime).containsExactly(null, T0);
    assertThat(second.consumed()).isEqualTo(ConsumeResult.consumed(1));
    assertThat(afterRevoke.consumed().outcome()).isEqualTo(Outcome.REVOKED);
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isEqualTo(1);
  }

  @Test
  void redeemSessionUse_withQuota_chargesTheQuotaAndRefusesBeyondIt() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 1, LATER));
    insertSession(session("ses-2", "key-1", 1, LATER));
    QuotaCharge quota = new QuotaCharge(TENANT, "2026-01", 1);

    Redemption first = redeem("ses-1", tokenHashOf("ses-1"), s -> {}, T0, quota);
    Redemption second = redeem("ses-2", tokenHashOf("ses-2"), s -> {}, T0, quota);

    assertThat(first.consumed()).isEqualTo(ConsumeResult.consumed(0));
    assertThat(second.consumed().outcome()).isEqualTo(Outcome.QUOTA_EXCEEDED);
    assertThat(store.sessions().countRedemptions(TENANT, "2026-01")).isEqualTo(1);
    assertThat(store.sessions().findSession("ses-2").orElseThrow().usesRemaining()).isEqualTo(1);
  }

  @Test
  @Timeout(60)
  void redeemSessionUse_64ThreadsAtOnce_refusalsUndoNoneOfTheUsesTakenBesideThem() throws Exception {
    // A store that runs many redeems in one transaction (SQLite's writer) must not let one
    // call's refusal roll back the others: odd threads are refused, even ones redeem, each its
    // own session twice; exactly one use of each even session is taken.
    insertSessionPerThread(1);

    List<List<Redemption>> perThread =
        runAtOnce(
            THREADS,
            thread -> {
              String id = "ses-" + thread;
              RedeemCheck check =
                  s -> {
                    if (thread % 2 == 1) {
                      throw new IllegalStateException("refused " + thread);
                    }
                  };
              return List.of(redeem(id, tokenHashOf(id), check, T0, null), redeem(id, tokenHashOf(id), check, T0, null));
            });

    for (int i = 0; i < THREADS; i++) {
      List<Redemption> mine = perThread.get(i);
      int remaining = store.sessions().findSession("ses-" + i).orElseThrow().usesRemaining();
      if (i % 2 == 1) {
        String refusal = "refused " + i;
        assertThat(mine).allSatisfy(r -> assertThat(r.refusal()).hasMessage(refusal));
        assertThat(remaining).isEqualTo(1);
      } else {
        assertThat(mine).extracting(r -> r.consumed().outcome()).containsExactly(Outcome.CONSUMED, Outcome.ALREADY_USED);
        assertThat(remaining).isZero();
      }
    }
  }

  @Test
  @Timeout(60)
  void redeemSessionUse_64ThreadsOnOneSession_redeemExactlyMaxUses() throws Exception {
    insertKey("key-1");
    Session hot = session("ses-hot", "key-1", 5, LATER);
    insertSession(hot);

    List<Redemption> all = runAtOnce(THREADS, thread -> redeem("ses-hot", hot.tokenHash(), s -> {}, T0, null));

    assertThat(all.stream().filter(r -> r.consumed().outcome() == Outcome.CONSUMED).map(r -> r.consumed().usesRemaining()))
        .containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    assertThat(all).filteredOn(r -> r.consumed().outcome() == Outcome.ALREADY_USED).hasSize(THREADS - 5);
    assertThat(store.sessions().findSession("ses-hot").orElseThrow().usesRemaining()).isZero();
  }

  @Test
  void findSession_emptyContextAndUnsetStrings_roundTripAsEmpty() {
    insertKey("key-1");
    Session session =
        new Session(
            "ses-bare", TENANT, "key-1", "user-1", "", "", List.of(), "", new byte[0], SecretHash.of("bare-token"),
            T0, LATER, 1, 1, null);

    insertSession(session);

    Session found = store.sessions().findSession("ses-bare").orElseThrow();
    assertSameSession(found, session);
    assertThat(found.context()).isNotNull().isEmpty();
    assertThat(found.scopes()).isEmpty();
    assertThat(found.revokeTime()).isNull();
  }

  @Test
  void findSession_unknownId_isEmpty() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 1, LATER));

    assertThat(store.sessions().findSession("ses-2")).isEmpty();
  }

  @Test
  void consumeSessionUse_usesLeft_decrementsAndReturnsRemaining() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 3, LATER));

    assertThat(consume("ses-1", T0)).isEqualTo(ConsumeResult.consumed(2));
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isEqualTo(2);
    assertThat(consume("ses-1", T0)).isEqualTo(ConsumeResult.consumed(1));
    assertThat(consume("ses-1", T0)).isEqualTo(ConsumeResult.consumed(0));
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isZero();
  }

  @Test
  void consumeSessionUse_lastUseTaken_isAlreadyUsed() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 1, LATER));
    consume("ses-1", T0);

    assertThat(consume("ses-1", T0.plusMillis(1)).outcome()).isEqualTo(Outcome.ALREADY_USED);
    assertThat(consume("ses-1", T0.plusMillis(2)).outcome()).isEqualTo(Outcome.ALREADY_USED);

    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isZero();
  }

  @Test
  void consumeSessionUse_nowAtOrAfterExpireTime_isExpiredAndTakesNoUse() {
    insertKey("key-1");
    Instant expire = T0.plusSeconds(300);
    insertSession(session("ses-1", "key-1", 5, expire));

    assertThat(consume("ses-1", expire).outcome()).isEqualTo(Outcome.EXPIRED);
    assertThat(consume("ses-1", expire.plusSeconds(1)).outcome()).isEqualTo(Outcome.EXPIRED);
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isEqualTo(5);
  }

  @Test
  void consumeSessionUse_oneMillisecondBeforeExpireTime_isConsumed() {
    insertKey("key-1");
    Instant expire = T0.plusSeconds(300);
    insertSession(session("ses-1", "key-1", 5, expire));

    assertThat(consume("ses-1", expire.minusMillis(1))).isEqualTo(ConsumeResult.consumed(4));
  }

  @Test
  void consumeSessionUse_afterRevokeSession_isRevokedAndTakesNoUse() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 5, LATER));
    consume("ses-1", T0);

    store.sessions().revokeSession("ses-1", T0.plusSeconds(1));

    assertThat(consume("ses-1", T0.plusSeconds(2)).outcome()).isEqualTo(Outcome.REVOKED);
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isEqualTo(4);
  }

  @Test
  void consumeSessionUse_mintingKeyRevoked_isRevokedWhileOtherKeysSessionConsumes() {
    insertKey("key-revoked");
    insertKey("key-live");
    insertSession(session("ses-of-revoked-key", "key-revoked", 5, LATER));
    insertSession(session("ses-of-live-key", "key-live", 5, LATER));

    store.apiKeys().revokeApiKey("key-revoked", T0.plusSeconds(1));

    assertThat(consume("ses-of-revoked-key", T0.plusSeconds(2)).outcome()).isEqualTo(Outcome.REVOKED);
    assertThat(consume("ses-of-live-key", T0.plusSeconds(2))).isEqualTo(ConsumeResult.consumed(4));
    Session cascaded = store.sessions().findSession("ses-of-revoked-key").orElseThrow();
    assertThat(cascaded.usesRemaining()).isEqualTo(5);
    assertThat(cascaded.revokeTime()).as("only a session revoked itself has a revoke time").isNull();
  }

  @Test
  void consumeSessionUse_unknownId_isNotFound() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 5, LATER));

    assertThat(consume("ses-2", T0).outcome()).isEqualTo(Outcome.NOT_FOUND);
  }

  @Test
  void revokeSession_liveSession_returnsAndStoresRevokeTime() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 5, LATER));
    Instant revokeAt = T0.plusSeconds(3).plusMillis(141);

    assertThat(store.sessions().revokeSession("ses-1", revokeAt)).contains(revokeAt);

    assertThat(store.sessions().findSession("ses-1").orElseThrow().revokeTime()).isEqualTo(revokeAt);
  }

  @Test
  void revokeSession_secondTime_returnsFirstRevokeTime() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 5, LATER));
    store.sessions().revokeSession("ses-1", T0.plusSeconds(3));

    assertThat(store.sessions().revokeSession("ses-1", T0.plusSeconds(9))).contains(T0.plusSeconds(3));

    assertThat(store.sessions().findSession("ses-1").orElseThrow().revokeTime()).isEqualTo(T0.plusSeconds(3));
  }

  @Test
  void revokeSession_unknownId_isEmpty() {
    assertThat(store.sessions().revokeSession("ses-ghost", T0)).isEmpty();

    assertThat(store.sessions().findSession("ses-ghost")).isEmpty();
  }

  // ---------------------------------------------------------------------------------------
  // Concurrency

  @ParameterizedTest(name = "maxUses={0}")
  @ValueSource(ints = {1, 5})
  @Timeout(60)
  void consumeSessionUse_64ThreadsAtOnce_consumeExactlyMaxUses(int maxUses) throws Exception {
    insertKey("key-1");
    insertSession(session("ses-hot", "key-1", maxUses, LATER));
    int callsPerThread = 4;

    List<List<ConsumeResult>> perThread =
        runAtOnce(
            THREADS,
            thread -> {
              List<ConsumeResult> results = new ArrayList<>();
              for (int i = 0; i < callsPerThread; i++) {
                results.add(consume("ses-hot", T0));
              }
              return results;
            });

    List<ConsumeResult> all = perThread.stream().flatMap(List::stream).toList();
    Map<Outcome, Long> byOutcome = all.stream().collect(Collectors.groupingBy(ConsumeResult::outcome, Collectors.counting()));
    assertThat(byOutcome)
        .containsOnly(
            Map.entry(Outcome.CONSUMED, (long) maxUses),
            Map.entry(Outcome.ALREADY_USED, (long) (THREADS * callsPerThread - maxUses)));
    // Each remaining count is handed out exactly once: no two callers took the same use.
    assertThat(all.stream().filter(r -> r.outcome() == Outcome.CONSUMED).map(ConsumeResult::usesRemaining))
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, maxUses).boxed().toList());
    assertThat(store.sessions().findSession("ses-hot").orElseThrow().usesRemaining()).isZero();
  }

  @Test
  @Timeout(60)
  void insertSession_64ThreadsAtOnce_allSucceedAndAreFindable() throws Exception {
    insertKey("key-1");
    int perThread = 4;

    List<List<Session>> inserted =
        runAtOnce(
            THREADS,
            thread -> {
              List<Session> mine = new ArrayList<>();
              for (int i = 0; i < perThread; i++) {
                Session s = session("ses-" + thread + "-" + i, "key-1", 2, LATER);
                insertSession(s);
                mine.add(s);
              }
              return mine;
            });

    List<Session> all = inserted.stream().flatMap(List::stream).toList();
    assertThat(all).hasSize(THREADS * perThread);
    for (Session s : all) {
      assertThat(store.sessions().findSession(s.id())).hasValueSatisfying(found -> assertSameSession(found, s));
      assertThat(store.sessions().findSessionForToken(s.id(), s.tokenHash()).join()).hasValueSatisfying(found -> assertThat(found.id()).isEqualTo(s.id()));
    }
  }

  @Test
  @Timeout(60)
  void findSessionForToken_64ThreadsAtOnce_eachFindsItsOwnSessionAndNoOther() throws Exception {
    List<Session> sessions = insertSessionPerThread(1);

    // Concurrent lookups, which a grouping store answers together: each by its own digest, and
    // each by its neighbour's digest, which must find nothing.
    List<List<Optional<Session>>> found =
        runAtOnce(
            THREADS,
            thread -> {
              Session mine = sessions.get(thread);
              Session other = sessions.get((thread + 1) % THREADS);
              var own = store.sessions().findSessionForToken(mine.id(), mine.tokenHash());
              var wrong = store.sessions().findSessionForToken(mine.id(), other.tokenHash());
              return List.of(own.join(), wrong.join());
            });

    for (int i = 0; i < THREADS; i++) {
      Session expected = sessions.get(i);
      assertThat(found.get(i).get(0)).hasValueSatisfying(s -> assertSameSession(s, expected));
      assertThat(found.get(i).get(1)).isEmpty();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Monthly quota, charged by the consume itself

  @Test
  @Timeout(60)
  void consumeSessionUse_withQuota_64ThreadsOnManySessions_chargeExactlyTheQuota() throws Exception {
    insertSessionPerThread(2);
    QuotaCharge quota = new QuotaCharge(TENANT, "2026-01", 37);

    List<ConsumeResult> all =
        runAtOnce(THREADS, thread -> List.of(
                consume("ses-" + thread, T0, quota), consume("ses-" + thread, T0, quota)))
            .stream().flatMap(List::stream).toList();

    Map<Outcome, Long> byOutcome = all.stream().collect(Collectors.groupingBy(ConsumeResult::outcome, Collectors.counting()));
    assertThat(byOutcome).containsOnly(
        Map.entry(Outcome.CONSUMED, 37L), Map.entry(Outcome.QUOTA_EXCEEDED, (long) (2 * THREADS - 37)));
    assertThat(store.sessions().countRedemptions(TENANT, "2026-01")).isEqualTo(37);
    // A refused use stays unused: every session still has the uses the quota did not take.
    long left = IntStream.range(0, THREADS).mapToLong(i -> store.sessions().findSession("ses-" + i).orElseThrow().usesRemaining()).sum();
    assertThat(left).isEqualTo(2L * THREADS - 37);
  }

  @Test
  @Timeout(60)
  void consumeSessionUse_quotaChangesWhileUsesWait_neverCountsBeyondEachCallsQuota() throws Exception {
    insertSessionPerThread(1);
    QuotaCharge before = new QuotaCharge(TENANT, "2026-01", 10);
    QuotaCharge after = new QuotaCharge(TENANT, "2026-01", 20);

    List<ConsumeResult> all = runAtOnce(THREADS, thread -> consume("ses-" + thread, T0, thread % 2 == 0 ? before : after));

    // Whatever the order, a use under the quota of 20 is counted while the month is below 20,
    // so 20 in all; those under the old quota of 10 only while it was below 10.
    long consumed = all.stream().filter(r -> r.outcome() == Outcome.CONSUMED).count();
    long underOld = IntStream.range(0, THREADS).filter(t -> t % 2 == 0 && all.get(t).outcome() == Outcome.CONSUMED).count();
    assertThat(consumed).isEqualTo(20);
    assertThat(underOld).isLessThanOrEqualTo(10);
    assertThat(store.sessions().countRedemptions(TENANT, "2026-01")).isEqualTo(20);
    long left = IntStream.range(0, THREADS).mapToLong(i -> store.sessions().findSession("ses-" + i).orElseThrow().usesRemaining()).sum();
    assertThat(left).isEqualTo(THREADS - 20);
  }

  @Test
  void consumeSessionUse_withQuota_countsPerTenantAndMonth_andOnlyConsumedUses() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 1, LATER));
    insertSession(session("ses-2", "key-1", 5, LATER));
    QuotaCharge january = new QuotaCharge(TENANT, "2026-01", 10);

    assertThat(consume("ses-1", T0, january).outcome()).isEqualTo(Outcome.CONSUMED);
    assertThat(consume("ses-1", T0, january).outcome()).isEqualTo(Outcome.ALREADY_USED);
    assertThat(consume("ses-2", T0, new QuotaCharge(TENANT, "2026-02", 10)).outcome()).isEqualTo(Outcome.CONSUMED);
    assertThat(consume("ses-2", T0).outcome()).isEqualTo(Outcome.CONSUMED);

    assertThat(store.sessions().countRedemptions(TENANT, "2026-01")).isEqualTo(1);
    assertThat(store.sessions().countRedemptions(TENANT, "2026-02")).isEqualTo(1);
    assertThat(store.sessions().countRedemptions("tenant-b", "2026-01")).isZero();
  }

  // ---------------------------------------------------------------------------------------
  // Rate-limit buckets (GCRA)

  @Test
  @Timeout(60)
  void admitRateLimited_64ThreadsAtOnce_admitExactlyTheBurst() throws Exception {
    long period = 60_000_000L;
    long interval = Gcra.intervalMicros(10, period);
    long now = 1_800_000_000_000_000L;

    List<Long> results =
        runAtOnce(THREADS, thread -> store.rateLimits().admitRateLimited("key:k1", interval, period, now).join());

    assertThat(results.stream().filter(r -> r > 0).count()).isEqualTo(10);
    // The admitted calls got distinct arrival times, one interval apart.
    assertThat(results.stream().filter(r -> r > 0).sorted().toList())
        .isEqualTo(LongStream.rangeClosed(1, 10).map(i -> now + i * interval).boxed().toList());
    assertThat(results.stream().filter(r -> r <= 0)).allSatisfy(r -> assertThat(-r).isEqualTo(now + 10 * interval));
    // Another bucket is untouched; after one interval the first admits one more.
    assertThat(store.rateLimits().admitRateLimited("key:k2", interval, period, now).join()).isPositive();
    assertThat(store.rateLimits().admitRateLimited("key:k1", interval, period, now + interval).join()).isEqualTo(now + 11 * interval);
  }

  @Test
  void refundRateLimited_givesBackExactlyOneCall_ofThatBucketOnly() {
    long period = 60_000_000L;
    long interval = Gcra.intervalMicros(2, period);
    long now = 1_800_000_000_000_000L;
    for (String bucket : List.of("key:a", "key:b")) {
      store.rateLimits().admitRateLimited(bucket, interval, period, now).join();
      store.rateLimits().admitRateLimited(bucket, interval, period, now).join();
      assertThat(store.rateLimits().admitRateLimited(bucket, interval, period, now).join()).as(bucket + " full").isNotPositive();
    }

    store.rateLimits().refundRateLimited("key:a", interval).join();

    assertThat(store.rateLimits().admitRateLimited("key:a", interval, period, now).join()).as("the call given back").isPositive();
    assertThat(store.rateLimits().admitRateLimited("key:a", interval, period, now).join()).as("only one").isNotPositive();
    assertThat(store.rateLimits().admitRateLimited("key:b", interval, period, now).join()).as("another bucket").isNotPositive();
  }

  @Test
  void peekRateLimited_readsTheBucketAsItStands_andTakesNothing() {
    long period = 60_000_000L;
    long interval = Gcra.intervalMicros(2, period);
    long now = 1_800_000_000_000_000L;
    assertThat(store.rateLimits().peekRateLimited("key:p").join()).as("no bucket yet: full").isZero();

    long tat = store.rateLimits().admitRateLimited("key:p", interval, period, now).join();

    assertThat(store.rateLimits().peekRateLimited("key:p").join()).isEqualTo(tat);
    assertThat(store.rateLimits().peekRateLimited("key:p").join()).as("peeking twice changes nothing").isEqualTo(tat);
    assertThat(store.rateLimits().admitRateLimited("key:p", interval, period, now).join()).as("the second of two").isPositive();
    assertThat(store.rateLimits().peekRateLimited("key:other").join()).isZero();
  }

  @Test
  @Timeout(60)
  void admitRateLimited_manyNewBucketsAtOnce_eachAdmitsExactlyItsBurst() throws Exception {
    long period = 60_000_000L;
    long interval = Gcra.intervalMicros(5, period);
    long now = 1_800_000_000_000_000L;
    int buckets = 8;

    List<Long> results =
        runAtOnce(THREADS, thread -> store.rateLimits().admitRateLimited("user:t:" + (thread % buckets), interval, period, now).join());

    for (int b = 0; b < buckets; b++) {
      int bucket = b;
      List<Long> mine = IntStream.range(0, THREADS).filter(t -> t % buckets == bucket).mapToObj(results::get).toList();
      assertThat(mine.stream().filter(r -> r > 0).sorted().toList())
          .as("bucket %d admits its burst of 5, one interval apart", bucket)
          .isEqualTo(LongStream.rangeClosed(1, 5).map(i -> now + i * interval).boxed().toList());
      assertThat(mine.stream().filter(r -> r <= 0)).allSatisfy(r -> assertThat(-r).isEqualTo(now + 5 * interval));
    }
  }

  @Test
  @Timeout(60)
  void admitRateLimited_limitChangesWhileCallsWait_bucketNeverAdmitsMoreThanItsPeriod() throws Exception {
    long period = 60_000_000L;
    long fast = Gcra.intervalMicros(10, period);
    long slow = Gcra.intervalMicros(5, period);
    long now = 1_800_000_000_000_000L;
    // The bucket exists, full again by now (its one call was a period ago).
    assertThat(store.rateLimits().admitRateLimited("key:changing", slow, period, now - period).join()).isPositive();

    // Half the calls carry the old limit, half the new one, as around a policy change.
    List<Long> results = runAtOnce(THREADS,
        thread -> store.rateLimits().admitRateLimited("key:changing", thread % 2 == 0 ? fast : slow, period, now).join());

    long admittedTime = 0;
    for (int t = 0; t < THREADS; t++) {
      if (results.get(t) > 0) {
        admittedTime += t % 2 == 0 ? fast : slow;
      }
    }
    // Each admitted call used its own limit's interval: together at most one period, and the
    // refused fast calls prove less than one fast interval was left.
    assertThat(admittedTime).isLessThanOrEqualTo(period).isGreaterThan(period - fast);
    assertThat(results.stream().filter(r -> r > 0).max(Long::compare)).hasValue(now + admittedTime);
    assertThat(results.stream().filter(r -> r > 0).distinct().count()).isEqualTo(results.stream().filter(r -> r > 0).count());
  }

  @Test
  void purgeRateLimits_deletesOnlyFullBuckets() {
    long period = 60_000_000L;
    long now = 1_800_000_000_000_000L;
    store.rateLimits().admitRateLimited("old", period, period, now).join();
    store.rateLimits().admitRateLimited("new", period, period, now + period).join();

    assertThat(store.rateLimits().purgeRateLimits(now + period + 1, "", 1000)).containsExactly("old");
    // "old" is full again as if new; "new" still remembers its call.
    assertThat(store.rateLimits().admitRateLimited("new", period, period, now + period + 1).join()).isNegative();
    assertThat(store.rateLimits().admitRateLimited("old", period, period, now + period + 1).join()).isPositive();
  }

  @Test
  void purgeRateLimits_deletesAtMostItsBatchAfterTheCursor_andTheNextBatchTakesTheRest() {
    long period = 60_000_000L;
    long now = 1_800_000_000_000_000L;
    for (int i = 0; i < 5; i++) {
      store.rateLimits().admitRateLimited("old-" + i, period, period, now).join();
    }
    store.rateLimits().admitRateLimited("new", period, period, now + period).join();

    long later = now + period + 1;
    assertThat(store.rateLimits().purgeRateLimits(later, "", 2)).containsExactly("old-0", "old-1");
    assertThat(store.rateLimits().purgeRateLimits(later, "old-1", 2)).containsExactly("old-2", "old-3");
    assertThat(store.rateLimits().purgeRateLimits(later, "old-3", 2)).containsExactly("old-4");
    assertThat(store.rateLimits().purgeRateLimits(later, "", 2)).isEmpty();
    assertThat(store.rateLimits().admitRateLimited("new", period, period, now + period + 1).join())
        .as("a bucket not yet full is kept").isNegative();
  }

  // ---------------------------------------------------------------------------------------
  // Purging expired sessions

  @Test
  void purgeExpiredSessions_mixedSessions_deletesOnlyThoseExpiredBeforeCutoff() {
    insertKey("key-1");
    Instant cutoff = T0.plusSeconds(100);
    insertSession(session("ses-long-gone", "key-1", 1, cutoff.minusSeconds(50)));
    insertSession(session("ses-just-gone", "key-1", 1, cutoff.minusMillis(1)));
    insertSession(session("ses-at-cutoff", "key-1", 1, cutoff));
    insertSession(session("ses-live", "key-1", 1, cutoff.plusSeconds(50)));

    assertThat(store.sessions().purgeExpiredSessions(cutoff, 100)).isEqualTo(2);

    assertThat(store.sessions().findSession("ses-long-gone")).isEmpty();
    assertThat(store.sessions().findSession("ses-just-gone")).isEmpty();
    assertThat(store.sessions().findSessionForToken("ses-just-gone", tokenHashOf("ses-just-gone")).join()).isEmpty();
    assertThat(consume("ses-just-gone", T0).outcome()).isEqualTo(Outcome.NOT_FOUND);
    assertThat(store.sessions().findSession("ses-at-cutoff")).isPresent();
    assertThat(store.sessions().findSession("ses-live")).isPresent();
    assertThat(consume("ses-live", T0)).isEqualTo(ConsumeResult.consumed(0));
  }

  @Test
  void purgeExpiredSessions_moreExpiredThanLimit_deletesAtMostLimitPerCall() {
    insertKey("key-1");
    for (int i = 0; i < 5; i++) {
      insertSession(session("ses-expired-" + i, "key-1", 1, T0.minusSeconds(i + 1)));
    }
    insertSession(session("ses-live", "key-1", 1, LATER));

    assertThat(store.sessions().purgeExpiredSessions(T0, 2)).isEqualTo(2);
    assertThat(store.sessions().purgeExpiredSessions(T0, 2)).isEqualTo(2);
    assertThat(store.sessions().purgeExpiredSessions(T0, 2)).isEqualTo(1);
    assertThat(store.sessions().purgeExpiredSessions(T0, 2)).isZero();

    for (int i = 0; i < 5; i++) {
      assertThat(store.sessions().findSession("ses-expired-" + i)).isEmpty();
    }
    assertThat(store.sessions().findSession("ses-live")).isPresent();
  }

  @Test
  void purgeExpiredSessions_nothingExpired_returnsZeroAndKeepsSessions() {
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 1, LATER));

    assertThat(store.sessions().purgeExpiredSessions(T0, 1000)).isZero();

    assertThat(store.sessions().findSession("ses-1")).isPresent();
  }

  @Test
  void countLiveSessions_countsThoseExpiringAfterNow_usedAndRevokedIncluded() {
    insertKey("key-1");
    Instant now = T0.plusSeconds(100);
    insertSession(session("ses-gone", "key-1", 1, now.minusSeconds(1)));
    insertSession(session("ses-at-now", "key-1", 1, now));
    insertSession(session("ses-live", "key-1", 1, now.plusSeconds(50)));
    insertSession(session("ses-used", "key-1", 1, now.plusSeconds(50)));
    insertSession(session("ses-revoked", "key-1", 1, now.plusSeconds(50)));
    assertThat(consume("ses-used", T0).outcome()).isEqualTo(Outcome.CONSUMED);
    assertThat(store.sessions().revokeSession("ses-revoked", T0)).isPresent();

    assertThat(store.sessions().countLiveSessions(now)).isEqualTo(3);
    assertThat(store.sessions().countLiveSessions(now.plusSeconds(60))).isZero();
  }

  @Test
  @Timeout(120)
  void purgeExpiredSessions_5000InBatchesWhileCallersWork_callersKeepSucceeding() throws Exception {
    insertKey("key-1");
    int expiredCount = 5000;
    List<Session> expired =
        IntStream.range(0, expiredCount)
            .mapToObj(i -> session("ses-expired-" + i, "key-1", 1, T0.minusSeconds(3600).plusMillis(i)))
            .toList();
    runAtOnce(THREADS, thread -> {
      for (int i = thread; i < expiredCount; i += THREADS) {
        insertSession(expired.get(i));
      }
      return null;
    });
    int consumers = 4;
    int inserters = 2;
    int maxOps = 1000; // also each consumer's session's uses
    for (int c = 0; c < consumers; c++) {
      insertSession(session("ses-live-" + c, "key-1", maxOps, LATER));
    }

    AtomicBoolean purgeDone = new AtomicBoolean();
    CountDownLatch working = new CountDownLatch(consumers + inserters);
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> insertedIds = new ConcurrentLinkedQueue<>();
    AtomicLong slowestCallNanos = new AtomicLong();
    int[] consumed = new int[consumers];
    ExecutorService pool = Executors.newFixedThreadPool(consumers + inserters);
    List<Future<?>> workers = new ArrayList<>();
    List<Integer> batches = new ArrayList<>();
    try {
      for (int w = 0; w < consumers + inserters; w++) {
        int worker = w;
        workers.add(
            pool.submit(
                () -> {
                  for (int op = 0; op < maxOps && (op < 20 || !purgeDone.get()); op++) {
                    long start = System.nanoTime();
                    try {
                      if (worker < consumers) {
                        ConsumeResult r = consume("ses-live-" + worker, T0);
                        if (r.outcome() == Outcome.CONSUMED) {
                          consumed[worker]++;
                        } else {
                          failures.add("consume of ses-live-" + worker + " gave " + r);
                        }
                      } else {
                        String id = "ses-new-" + worker + "-" + op;
                        insertSession(session(id, "key-1", 1, LATER));
                        insertedIds.add(id);
                      }
                    } catch (RuntimeException e) {
                      failures.add(e.toString());
                    }
                    slowestCallNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                    if (op == 0) {
                      working.countDown();
                    }
                  }
                }));
      }
      assertThat(working.await(30, SECONDS)).isTrue();

      int purged;
      do {
        purged = store.sessions().purgeExpiredSessions(T0, 1000);
        batches.add(purged);
      } while (purged > 0 && batches.size() < 20);
      purgeDone.set(true);
      for (Future<?> f : workers) {
        f.get(60, SECONDS);
      }
    } finally {
      purgeDone.set(true);
      pool.shutdownNow();
    }

    assertThat(batches).containsExactly(1000, 1000, 1000, 1000, 1000, 0);
    assertThat(failures).isEmpty();
    // Well under the SQLite test timeout (10 s): slow callers would show here before they fail.
    assertThat(Duration.ofNanos(slowestCallNanos.get())).isLessThan(Duration.ofSeconds(5));
    for (int c = 0; c < consumers; c++) {
      assertThat(consumed[c]).isPositive();
      assertThat(store.sessions().findSession("ses-live-" + c).orElseThrow().usesRemaining()).isEqualTo(maxOps - consumed[c]);
    }
    assertThat(insertedIds).isNotEmpty();
    for (String id : insertedIds) {
      assertThat(store.sessions().findSession(id)).as(id).isPresent();
    }
    for (int i = 0; i < expiredCount; i += 97) {
      assertThat(store.sessions().findSession("ses-expired-" + i)).isEmpty();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Signing keys

  @Test
  void listSigningKeys_noneInserted_isEmpty() {
    assertThat(store.signingKeys().listSigningKeys()).isEmpty();
  }

  @Test
  void listSigningKeys_severalInserted_newestFirst() {
    store.signingKeys().insertSigningKey(signingKey("kid-middle", T0.plusSeconds(10)));
    store.signingKeys().insertSigningKey(signingKey("kid-newest", T0.plusSeconds(20)));
    store.signingKeys().insertSigningKey(signingKey("kid-oldest", T0));

    assertThat(store.signingKeys().listSigningKeys())
        .extracting(SigningKey::kid)
        .containsExactly("kid-newest", "kid-middle", "kid-oldest");
  }

  @Test
  void listSigningKeys_afterInsert_roundTripsBytesAndTime() {
    SigningKey key =
        new SigningKey("kid-1", bytes(48, 0x30), bytes(44, 0x80), T0.plusMillis(999));

    store.signingKeys().insertSigningKey(key);

    List<SigningKey> listed = store.signingKeys().listSigningKeys();
    assertThat(listed).hasSize(1);
    assertThat(listed.get(0)).usingRecursiveComparison().isEqualTo(key);
  }

  @Test
  void forgetPrivateKey_erasesThatKeysPrivateHalfOnly_andDeleteRemovesThatKeyOnly() {
    SigningKey older = new SigningKey("kid-older", bytes(48, 0x30), bytes(44, 0x80), T0);
    SigningKey newer = new SigningKey("kid-newer", bytes(48, 0x31), bytes(44, 0x81), T0.plusSeconds(60));
    store.signingKeys().insertSigningKey(older);
    store.signingKeys().insertSigningKey(newer);

    store.signingKeys().forgetPrivateKey("kid-older");
    store.signingKeys().forgetPrivateKey("kid-unknown");
    List<SigningKey> listed = store.signingKeys().listSigningKeys();
    assertThat(listed).extracting(SigningKey::kid).containsExactly("kid-newer", "kid-older");
    assertThat(listed.get(0)).usingRecursiveComparison().isEqualTo(newer);
    assertThat(listed.get(1).hasPrivateKey()).isFalse();
    assertThat(listed.get(1).publicKeyX509()).isEqualTo(older.publicKeyX509());
    assertThat(listed.get(1).createTime()).isEqualTo(older.createTime());

    store.signingKeys().deleteSigningKey("kid-older");
    store.signingKeys().deleteSigningKey("kid-older");
    assertThat(store.signingKeys().listSigningKeys()).extracting(SigningKey::kid).containsExactly("kid-newer");
  }

  // ---------------------------------------------------------------------------------------
  // Persistence (stores that persist only)

  @Test
  void reopen_afterWrites_keepsTenantsKeysSessionsRevocationsAndSigningKeys() throws Exception {
    assumeTrue(persists(), "the store does not persist");
    Tenant tenant = tenant(TENANT);
    store.tenants().insertTenant(tenant);
    ApiKey live = apiKey("key-live", TENANT, T0);
    ApiKey revoked = apiKey("key-revoked", TENANT, T0.plusSeconds(1));
    store.apiKeys().insertApiKey(live);
    store.apiKeys().insertApiKey(revoked);
    recordApiKeyUse("key-live", T0.plusSeconds(7));
    store.apiKeys().revokeApiKey("key-revoked", T0.plusSeconds(8));
    Session used = fullSession("key-live");
    insertSession(used);
    assertThat(consume(used.id(), T0)).isEqualTo(ConsumeResult.consumed(used.maxUses() - 1));
    insertSession(session("ses-revoked", "key-live", 3, LATER));
    store.sessions().revokeSession("ses-revoked", T0.plusSeconds(9));
    insertSession(session("ses-of-revoked-key", "key-revoked", 3, LATER));
    SigningKey older = signingKey("kid-older", T0);
    SigningKey newer = signingKey("kid-newer", T0.plusSeconds(60));
    store.signingKeys().insertSigningKey(older);
    store.signingKeys().insertSigningKey(newer);

    reopenStore();

    assertThat(store.tenants().findTenant(TENANT)).contains(tenant);
    assertSameKey(store.apiKeys().findApiKey("key-live").orElseThrow(), live.withLastUsedTime(T0.plusSeconds(7)));
    assertSameKey(store.apiKeys().findApiKey("key-revoked").orElseThrow(), revoked.withRevokeTime(T0.plusSeconds(8)));
    assertThat(store.apiKeys().listApiKeys(TENANT, null, 10)).extracting(ApiKey::id).containsExactly("key-live");
    assertSameSession(store.sessions().findSession(used.id()).orElseThrow(), used.withUsesRemaining(used.maxUses() - 1));
    assertThat(store.sessions().findSessionForToken(used.id(), used.tokenHash()).join()).isPresent();
    assertThat(store.sessions().findSession("ses-revoked").orElseThrow().revokeTime()).isEqualTo(T0.plusSeconds(9));
    assertThat(consume("ses-revoked", T0).outcome()).isEqualTo(Outcome.REVOKED);
    assertThat(consume("ses-of-revoked-key", T0).outcome()).isEqualTo(Outcome.REVOKED);
    assertThat(store.signingKeys().listSigningKeys()).usingRecursiveFieldByFieldElementComparator().containsExactly(newer, older);
  }

  @Test
  void reopen_afterAcknowledgedLastUse_staysConsumed() throws Exception {
    assumeTrue(persists(), "the store does not persist");
    insertKey("key-1");
    insertSession(session("ses-1", "key-1", 2, LATER));
    assertThat(consume("ses-1", T0)).isEqualTo(ConsumeResult.consumed(1));
    assertThat(consume("ses-1", T0)).isEqualTo(ConsumeResult.consumed(0));

    reopenStore();

    assertThat(consume("ses-1", T0).outcome()).isEqualTo(Outcome.ALREADY_USED);
    assertThat(store.sessions().findSession("ses-1").orElseThrow().usesRemaining()).isZero();
  }

  // ---------------------------------------------------------------------------------------
  // Builders and helpers

  public static Tenant tenant(String id) {
    return new Tenant(
        id, "Tenant " + id, Tenant.Status.ACTIVE, Tenant.SubscriptionStatus.ACTIVE, List.of("sessions", "keys"),
        300, 3600, 60, 10, 1000, T0, T0.plusMillis(500));
  }

  private static Tenant renamed(Tenant t, String displayName) {
    return new Tenant(
        t.id(), displayName, t.status(), t.subscriptionStatus(), t.enabledModules(), t.sessionTtlDefaultSeconds(),
        t.sessionTtlMaxSeconds(), t.mintRatePerMinute(), t.mintRatePerUserPerHour(), t.monthlySessionQuota(),
        t.createTime(), t.updateTime());
  }

  private static String secretOf(String keyId) {
    return "ta_secret_of_" + keyId;
  }

  /** An active key of {@code tenantId} whose secret is {@link #secretOf}. */
  public static ApiKey apiKey(String id, String tenantId, Instant createTime) {
    return new ApiKey(
        id, tenantId, "key " + id, List.of("sessions:mint", "sessions:redeem"), List.of("https://app.example.com"),
        SecretHash.of(secretOf(id)), "ta_…" + id.substring(Math.max(0, id.length() - 4)), createTime, null, null,
        null);
  }

  /** Stores API key {@code id} of {@link #TENANT}. */
  protected final void insertKey(String id) {
    store.apiKeys().insertApiKey(apiKey(id, TENANT, T0));
  }

  private static SecretHash tokenHashOf(String sessionId) {
    return SecretHash.of("token-of-" + sessionId);
  }

  /** A live, unrevoked session of {@link #TENANT} minted by {@code apiKeyId}. */
  public static Session session(String id, String apiKeyId, int maxUses, Instant expireTime) {
    return new Session(
        id, TENANT, apiKeyId, "user-" + id, "group-1", "https://api.example.com", List.of("read", "write"),
        "https://app.example.com", new byte[] {1, 2, 3}, tokenHashOf(id), T0.minusSeconds(60), expireTime, maxUses,
        maxUses, null);
  }

  /** A session with every field set to something distinctive. */
  private static Session fullSession(String apiKeyId) {
    byte[] context = {0x0a, 0x05, 0x00, (byte) 0xff, (byte) 0xc3, 0x28, 0x7f, (byte) 0x80, 0x00};
    return new Session(
        "ses-full", TENANT, apiKeyId, "user-42", "group-7", "https://api.example.com/v2",
        List.of("write", "read", "admin:sessions"), "https://shop.example.com:8443", context,
        SecretHash.of("token-of-full-session"), T0.plusMillis(123), T0.plusSeconds(300).plusMillis(456), 3, 3,
        null);
  }

  private static SigningKey signingKey(String kid, Instant createTime) {
    return new SigningKey(kid, bytes(48, kid.hashCode()), bytes(44, ~kid.hashCode()), createTime);
  }

  private static byte[] bytes(int length, int seed) {
    byte[] out = new byte[length];
    new Random(seed).nextBytes(out);
    return out;
  }

  private static void assertSameKey(ApiKey actual, ApiKey expected) {
    assertThat(actual).usingRecursiveComparison().isEqualTo(expected);
    assertThat(actual.secretHash()).isEqualTo(expected.secretHash());
  }

  private static void assertSameSession(Session actual, Session expected) {
    assertThat(actual).usingRecursiveComparison().isEqualTo(expected);
    assertThat(actual.context()).containsExactly(expected.context());
    assertThat(actual.tokenHash()).isEqualTo(expected.tokenHash());
  }

  /** Work for one of several threads, given its index. */
  @FunctionalInterface
  protected interface ThreadWork<T> {
    T run(int thread) throws Exception;
  }

  /**
   * Runs {@code work} on {@code threads} threads released together by one start gate, and
   * returns each thread's result in thread order. Any thread's failure fails the test.
   */
  protected static <T> List<T> runAtOnce(int threads, ThreadWork<T> work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        int thread = i;
        futures.add(
            pool.submit(
                () -> {
                  ready.countDown();
                  start.await();
                  return work.run(thread);
                }));
      }
      assertThat(ready.await(30, SECONDS)).as("all threads ready").isTrue();
      start.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get(60, SECONDS));
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
