package dev.tokenauthority.server.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A retired key stays in the JWK Set until every token it signed has expired (api.md, Tokens),
 * also when the replica that rotated has a slow clock or another replica reloads late, and then
 * leaves it, so the set does not grow without end.
 */
class SigningKeyRetentionTest {
  private static final Instant T = TestClock.DEFAULT_START;

  private static Instant maxTtlExpiry(Instant mintedAt) {
    return mintedAt.plus(Authority.MAX_SESSION_TTL);
  }

  private static boolean listed(Authority a, String kid) {
    a.signingKeys().refresh();
    return a.signingKeys().publishedKeys().stream().anyMatch(k -> k.kid().equals(kid));
  }

  @Test
  void rotationOnAReplicaWhoseClockIsAMinuteSlow_keepsTheOldKeyListedUntilItsTokensExpire() {
    MemoryStore shared = new MemoryStore();
    TestClock clockB = new TestClock(T.minusSeconds(3600));
    Authority b = new Authority(shared, Authority.Settings.defaults(), clockB);
    Authority a = new Authority(shared, Authority.Settings.defaults(), new TestClock(T.minusSeconds(60)));
    String oldKid = b.signingKeys().active().kid();

    clockB.set(T); // B signs a token of the longest TTL with the old key, then A rotates
    a.signingKeys().rotate();

    clockB.set(maxTtlExpiry(T).minusSeconds(5));
    assertThat(listed(b, oldKid)).as("the old key while a token it signed still lives").isTrue();
  }

  @Test
  void aKeyAnotherReplicaJustMadeActive_isInThisReplicasPublishedSet_beforeItsNextReload() {
    MemoryStore shared = new MemoryStore();
    TestClock clock = new TestClock(T);
    Authority a = new Authority(shared, Authority.Settings.defaults(), clock);
    Authority b = new Authority(shared, Authority.Settings.defaults(), clock);

    String newKid = a.signingKeys().rotate().kid();

    // An offline verifier meets newKid in a token from A and fetches the JWK Set from B.
    assertThat(b.signingKeys().publishedKeys()).extracting(SigningKeys.VerificationKey::kid).contains(newKid);
  }

  @Test
  void replicaThatReloadsAMinuteLate_itsLastTokensOfTheOldKeyStillVerifyUntilTheyExpire() {
    MemoryStore shared = new MemoryStore();
    TestClock clock = new TestClock(T.minusSeconds(3600));
    Authority a = new Authority(shared, Authority.Settings.defaults(), clock);
    Authority b = new Authority(shared, Authority.Settings.defaults(), clock);
    String oldKid = b.signingKeys().active().kid();

    clock.set(T);
    a.signingKeys().rotate();
    clock.set(T.plusSeconds(60)); // B has not reloaded yet: it still signs with the old key
    assertThat(b.signingKeys().active().kid()).isEqualTo(oldKid);
    Instant lastMint = clock.instant();

    clock.set(maxTtlExpiry(lastMint).minusSeconds(5));
    assertThat(listed(a, oldKid)).as("the old key in A's JWK Set while B's last token lives").isTrue();
  }

  @Test
  void rotation_erasesTheRetiredKeysPrivateHalf_whileItsPublicHalfStillVerifies() {
    TestClock clock = new TestClock(T.minusSeconds(3600));
    MemoryStore store = new MemoryStore();
    Authority a = new Authority(store, Authority.Settings.defaults(), clock);
    String token = a.codec().sign(new SessionClaims("ses_1", "default", "u", "", T.minusSeconds(10), T.plusSeconds(300)));
    String oldKid = a.signingKeys().active().kid();
    clock.set(T);
    a.signingKeys().rotate();

    SigningKey stored = store.listSigningKeys().stream().filter(k -> k.kid().equals(oldKid)).findFirst().orElseThrow();
    assertThat(stored.hasPrivateKey()).as("a backup of the store cannot sign with a retired key").isFalse();
    assertThat(a.codec().verify(token).kid()).isEqualTo(oldKid);
    assertThat(store.listSigningKeys().get(0).hasPrivateKey()).isTrue();
    // A replica that starts now signs with the new key.
    assertThat(new Authority(store, Authority.Settings.defaults(), clock).signingKeys().active().kid()).isNotEqualTo(oldKid);
  }

  @Test
  void anErasureTheStoreRefused_isTriedAgainOnTheNextReload() {
    MemoryStore memory = new MemoryStore();
    java.util.concurrent.atomic.AtomicInteger blips = new java.util.concurrent.atomic.AtomicInteger(1);
    SigningKeyStore blipping = new SigningKeyStore() {
      @Override
      public java.util.List<SigningKey> listSigningKeys() {
        return memory.listSigningKeys();
      }

      @Override
      public void insertSigningKey(SigningKey key) {
        memory.insertSigningKey(key);
      }

      @Override
      public void forgetPrivateKey(String kid) {
        if (blips.getAndDecrement() > 0) {
          throw new IllegalStateException("a store blip");
        }
        memory.forgetPrivateKey(kid);
      }

      @Override
      public void deleteSigningKey(String kid) {
        memory.deleteSigningKey(kid);
      }
    };
    TestClock clock = new TestClock(T);
    SigningKeys keys = new SigningKeys(blipping, new Ed25519Provider(), clock, Authority.MAX_SESSION_TTL);
    String oldKid = keys.active().kid();
    clock.advanceSeconds(5);
    keys.rotate(); // its erasure of the old key's private half fails

    clock.advanceSeconds(1);
    keys.refresh();

    assertThat(memory.listSigningKeys().stream().filter(k -> k.kid().equals(oldKid)).findFirst().orElseThrow().hasPrivateKey())
        .isFalse();
  }

  @Test
  void retiredKey_leavesTheSetOnceTheRetentionAndTheReplicaMarginHavePassed() {
    TestClock clock = new TestClock(T.minusSeconds(3600));
    MemoryStore store = new MemoryStore();
    Authority a = new Authority(store, Authority.Settings.defaults(), clock);
    String oldKid = a.signingKeys().active().kid();
    clock.set(T);
    String newKid = a.signingKeys().rotate().kid();
    Instant gone = T.plus(Authority.MAX_SESSION_TTL).plus(Authority.Settings.defaults().leeway()).plus(SigningKeys.REPLICA_MARGIN);

    clock.set(gone.minusSeconds(1));
    assertThat(listed(a, oldKid)).isTrue();
    clock.set(gone.plusSeconds(1));
    assertThat(listed(a, oldKid)).isFalse();
    assertThat(listed(a, newKid)).isTrue();
    assertThat(store.listSigningKeys()).as("nor does the store keep it").extracting(SigningKey::kid).containsExactly(newKid);
  }
}
