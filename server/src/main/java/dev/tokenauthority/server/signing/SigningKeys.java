package dev.tokenauthority.server.signing;

import dev.tokenauthority.server.secret.RandomStrings;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key ring: the active Ed25519 signing key and the retired keys that still verify.
 * A retired key stays until {@code retention} (the longest a token can live, plus leeway)
 * and {@link #REPLICA_MARGIN} after its successor took over, so every token it signed expires
 * before it goes. The ring is an immutable snapshot, swapped on rotation or on
 * {@link #refresh()} from the store.
 */
public final class SigningKeys {
  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);
  private static final int RAW_PUBLIC_KEY_LENGTH = 32;
  private static final Duration UNKNOWN_KID_REFRESH_INTERVAL = Duration.ofSeconds(1);
  private static final Duration PUBLISHED_REFRESH_INTERVAL = Duration.ofMillis(250);
  /**
   * Added to the retention, because a successor's time is the clock of the replica that rotated,
   * which may run behind the others, and a replica keeps signing with the retired key until its
   * next reload (every second, later if its store is slow). A key listed 10 minutes longer costs
   * nothing; one dropped while its tokens live makes offline verifiers refuse them.
   */
  public static final Duration REPLICA_MARGIN = Duration.ofMinutes(10);

  private final SigningKeyStore store;
  private final Provider provider;
  private final Clock clock;
  private final Duration retention;
  private volatile Ring ring;
  /** Whether the last {@link #tidy} failed, so the next reload tries again (guarded by this). */
  private boolean tidyPending;
  /** When an unknown kid last made us read the store (nanoTime), to do so at most once a second. */
  private final AtomicLong lastLookupRefresh = new AtomicLong(System.nanoTime() - UNKNOWN_KID_REFRESH_INTERVAL.toNanos());
  /** When a request for the JWK Set last made us read the store (nanoTime). */
  private final AtomicLong lastPublishedRefresh = new AtomicLong(System.nanoTime() - PUBLISHED_REFRESH_INTERVAL.toNanos());

  /**
   * The key that signs new tokens, decoded once, and the token header that names it, encoded
   * (base64url ASCII bytes; never modified).
   */
  public record ActiveKey(String kid, Ed25519Signer signer, byte[] encodedHeader) {
    @Override
    public String toString() {
      return "ActiveKey[kid=" + kid + "]";
    }
  }

  /** A public key that verifies tokens, with its raw 32 bytes for a JWK's {@code x}. */
  public record VerificationKey(String kid, PublicKey publicKey, byte[] raw, Instant createTime) {}

  /**
   * One snapshot: the stored kids it was built from (newest first), and the moment its oldest
   * retired key stops verifying, when it must be rebuilt even if the store has not changed.
   */
  private record Ring(
      ActiveKey active,
      List<VerificationKey> verifying,
      Map<String, VerificationKey> byKid,
      List<String> storedKids,
      Instant rebuildBy) {}

  public SigningKeys(SigningKeyStore store, Provider provider, Clock clock, Duration retention) {
    this.store = store;
    this.provider = provider;
    this.clock = clock;
    this.retention = retention.plus(REPLICA_MARGIN);
    List<SigningKey> stored = store.listSigningKeys();
    if (stored.isEmpty()) {
      store.insertSigningKey(generate(Instant.EPOCH));
      stored = store.listSigningKeys();
      log.info("generated the first signing key kid={}", stored.get(0).kid());
    }
    this.ring = build(stored);
    tidy(stored);
  }

  /** The key that signs new tokens. */
  public ActiveKey active() {
    return ring.active();
  }

  /**
   * The public key for a token header's {@code kid}, or null when it is unknown or retired. An
   * unknown kid may be a key that another replica made active a moment ago: then the ring is
   * reloaded from the store first, at most once a second.
   */
  public VerificationKey verificationKey(String kid) {
    VerificationKey key = ring.byKid().get(kid);
    if (key != null) {
      return key;
    }
    long last = lastLookupRefresh.get();
    long now = System.nanoTime();
    if (now - last >= UNKNOWN_KID_REFRESH_INTERVAL.toNanos() && lastLookupRefresh.compareAndSet(last, now)) {
      refresh();
      return ring.byKid().get(kid);
    }
    return null;
  }

  /**
   * The keys of the JWK Set (the active one first, then retired keys still verifying) as this
   * replica publishes it (GetJwks, {@code /.well-known/jwks.json}), read from the store first
   * when that was not done in the last 250 ms: an offline verifier meets a key that another replica made active a moment ago and
   * fetches the set, perhaps from this replica, which must not make it wait for its next
   * reload. At most four store reads a second, whatever the rate of requests; if the store
   * fails, the keys held are published.
   */
  public List<VerificationKey> publishedKeys() {
    long last = lastPublishedRefresh.get();
    long now = System.nanoTime();
    if (now - last >= PUBLISHED_REFRESH_INTERVAL.toNanos() && lastPublishedRefresh.compareAndSet(last, now)) {
      try {
        refresh();
      } catch (RuntimeException e) {
        log.debug("reading the signing keys for the JWK Set failed; publishing the keys held: {}", e.getMessage());
      }
    }
    return ring.verifying();
  }

  /** Makes a new key active; the previous ones keep verifying for the retention period. */
  public synchronized SigningKey rotate() {
    // The newest key is the active one: the new key must sort after every stored key, even
    // when the clock has not moved on (or another replica's clock is ahead).
    Instant newest = store.listSigningKeys().get(0).createTime();
    SigningKey key = generate(newest.plusMillis(1));
    store.insertSigningKey(key);
    List<SigningKey> stored = store.listSigningKeys();
    ring = build(stored);
    log.info("signing key rotated; active kid={}", key.kid());
    tidy(stored);
    return key;
  }

  /**
   * Reloads the ring from the store, to pick up a rotation made by another replica; the server
   * calls this every second. The ring is rebuilt only when the stored keys changed or a
   * retired key's time is up.
   *
   * @return whether the active key changed
   */
  public synchronized boolean refresh() {
    List<SigningKey> stored = store.listSigningKeys();
    Ring current = ring;
    List<String> kids = stored.stream().map(SigningKey::kid).toList();
    if (kids.equals(current.storedKids()) && clock.instant().isBefore(current.rebuildBy())) {
      if (tidyPending) {
        tidy(stored);
      }
      return false;
    }
    ring = build(stored);
    boolean changed = !ring.active().kid().equals(current.active().kid());
    if (changed) {
      log.info("signing key changed in the store; active kid={}", ring.active().kid());
    }
    tidy(stored);
    return changed;
  }

  /**
   * Erases the private half of every retired key (only the newest key signs; a replica that has
   * not reloaded yet signs with the copy it holds in memory) and deletes the keys the ring no
   * longer lists, so that neither a copy of the store nor its growth keeps what is no use. A
   * failure is logged and tried again on the next reload.
   */
  private void tidy(List<SigningKey> newestFirst) {
    Ring current = ring;
    try {
      for (SigningKey key : newestFirst.subList(1, newestFirst.size())) {
        if (!current.byKid().containsKey(key.kid())) {
          store.deleteSigningKey(key.kid());
          log.info("deleted signing key kid={}: every token it signed has expired", key.kid());
        } else if (key.hasPrivateKey()) {
          store.forgetPrivateKey(key.kid());
          log.info("erased the private half of retired signing key kid={}", key.kid());
        }
      }
      tidyPending = false;
    } catch (RuntimeException e) {
      tidyPending = true;
      log.warn("tidying retired signing keys failed ({}); tried again on the next reload", e.getMessage());
    }
  }

  /** A new key created now, or at {@code notBefore} if the clock is behind it. */
  private SigningKey generate(Instant notBefore) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519", provider);
      KeyPair pair = generator.generateKeyPair();
      // Millisecond precision: what every store keeps, so a reload compares equal.
      Instant clockNow = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
      Instant now = clockNow.isBefore(notBefore) ? notBefore : clockNow;
      return new SigningKey(
          RandomStrings.id("sig_"), pair.getPrivate().getEncoded(), pair.getPublic().getEncoded(), now);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an Ed25519 key", e);
    }
  }

  private Ring build(List<SigningKey> newestFirst) {
    try {
      KeyFactory factory = KeyFactory.getInstance("Ed25519", provider);
      Instant now = clock.instant();
      SigningKey newest = newestFirst.get(0);
      Ed25519PrivateKeyParameters signer = (Ed25519PrivateKeyParameters) PrivateKeyFactory.createKey(newest.privateKeyPkcs8());
      ActiveKey active = new ActiveKey(
          newest.kid(), new Ed25519Signer(signer, NativeEd25519.PROCESS), SessionTokenWriter.encodedHeader(newest.kid()));
      List<VerificationKey> verifying = new ArrayList<>();
      Map<String, VerificationKey> byKid = new HashMap<>();
      Instant successorCreated = null;
      Instant rebuildBy = Instant.MAX;
      for (SigningKey key : newestFirst) {
        // A key is retired when its successor was created; it verifies for `retention` more.
        boolean keep = successorCreated == null || successorCreated.plus(retention).isAfter(now);
        if (keep) {
          if (successorCreated != null && successorCreated.plus(retention).isBefore(rebuildBy)) {
            rebuildBy = successorCreated.plus(retention);
          }
          PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(key.publicKeyX509()));
          byte[] x509 = key.publicKeyX509();
          byte[] raw = Arrays.copyOfRange(x509, x509.length - RAW_PUBLIC_KEY_LENGTH, x509.length);
          VerificationKey vk = new VerificationKey(key.kid(), publicKey, raw, key.createTime());
          verifying.add(vk);
          byKid.put(key.kid(), vk);
        }
        successorCreated = key.createTime();
      }
      List<String> storedKids = newestFirst.stream().map(SigningKey::kid).toList();
      return new Ring(active, List.copyOf(verifying), Map.copyOf(byKid), storedKids, rebuildBy);
    } catch (GeneralSecurityException | java.io.IOException | ClassCastException e) {
      throw new dev.tokenauthority.server.error.UnreadableStoredDataException("a stored signing key cannot be decoded", e);
    }
  }
}
