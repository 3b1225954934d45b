package dev.tokenauthority.server.signing;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AWS-LC's Ed25519, through the Amazon Corretto Crypto Provider: a signature in about a quarter
 * of BouncyCastle's time. Its native library is loaded when the server first signs, on a
 * background thread (about 150-300 ms of one core, most of it copying the library out of the
 * jar and loading it; about 8 MiB of memory), then checked against
 * BouncyCastle; the provider's self-tests of algorithms we never use are not run. Until then,
 * wherever it does not load (a platform other than Linux x86-64, no writable temporary
 * directory), and after it ever fails, BouncyCastle signs. Ed25519 is deterministic (RFC 8032,
 * 5.1.6): both give the same 64 bytes for a key and a message, so which one signed never shows
 * in a token. The provider is used by name, never installed: the JDK's provider list stays as
 * it is.
 */
public final class NativeEd25519 {
  private static final Logger log = LoggerFactory.getLogger(NativeEd25519.class);
  /** The one of this process, loaded at the server's first signature ({@link #loadOnFirstSignature}). */
  public static final NativeEd25519 PROCESS = new NativeEd25519();
  /** RFC 8410's PKCS#8 prefix for an Ed25519 private key, before its 32 bytes. */
  private static final byte[] PKCS8_PREFIX = {
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
  };

  /** Whether the first signature may load the provider ({@code --native-signing on}). */
  private volatile boolean wanted;
  private final AtomicBoolean loading = new AtomicBoolean();
  private volatile Provider provider;

  /** Not loaded: BouncyCastle signs until {@link #load()} succeeds. */
  NativeEd25519() {}

  /** Signs with {@code provider} from the start, for tests. */
  NativeEd25519(Provider provider) {
    this.provider = provider;
  }

  /** The provider that signs, or null while BouncyCastle does. */
  Provider provider() {
    return provider;
  }

  /** Whether native signatures are in use. */
  public boolean active() {
    return provider != null;
  }

  /**
   * Has the first signature that BouncyCastle makes load the provider in the background: a
   * server that never mints (a sidecar that answers Envoy's Check) never maps the library.
   */
  public void loadOnFirstSignature() {
    wanted = true;
  }

  /** Called by each BouncyCastle signature: starts the loading if it is wanted and not begun. */
  void bouncyCastleSigned() {
    if (wanted && !loading.get()) {
      loadInBackground();
    }
  }

  /** Loads the provider on a daemon thread, once; the outcome is one log line. */
  private void loadInBackground() {
    if (loading.compareAndSet(false, true)) {
      Thread t = new Thread(this::load, "native-ed25519");
      t.setDaemon(true);
      t.start();
    }
  }

  /**
   * Loads the provider and checks it against BouncyCastle; on success every later signature is
   * native.
   *
   * @return whether it is in use
   */
  public boolean load() {
    long start = System.nanoTime();
    try {
      AmazonCorrettoCryptoProvider candidate = AmazonCorrettoCryptoProvider.INSTANCE;
      Throwable loadingError = candidate.getLoadingError();
      if (loadingError != null) {
        log.info("Ed25519 signatures by BouncyCastle: the native provider does not load here ({})", loadingError.toString());
        return false;
      }
      selfCheck(candidate);
      provider = candidate;
      log.info("Ed25519 signatures by AWS-LC ({} {}), loaded in {} ms", candidate.getName(), candidate.getVersionStr(),
          (System.nanoTime() - start) / 1_000_000);
      return true;
    } catch (GeneralSecurityException | RuntimeException | LinkageError e) {
      log.info("Ed25519 signatures by BouncyCastle: the native provider failed its check ({})", e.toString());
      return false;
    }
  }

  /**
   * Stops native signing for good after a failure (BouncyCastle signs from now on), with one
   * warning.
   */
  synchronized void disable(Exception cause) {
    if (provider != null) {
      provider = null;
      log.warn("Ed25519 signatures by BouncyCastle from now on: the native provider failed ({})", cause.toString());
    }
  }

  /**
   * The JCA form of an Ed25519 private key, for the native provider, which has no key factory of
   * its own and takes the JDK's keys.
   */
  static PrivateKey privateKey(Ed25519PrivateKeyParameters key) throws GeneralSecurityException {
    byte[] pkcs8 = Arrays.copyOf(PKCS8_PREFIX, PKCS8_PREFIX.length + Ed25519PrivateKeyParameters.KEY_SIZE);
    key.encode(pkcs8, PKCS8_PREFIX.length);
    try {
      return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } finally {
      Arrays.fill(pkcs8, (byte) 0);
    }
  }

  /** A fresh key's signature of a message, natively and by BouncyCastle: the same bytes, or a refusal. */
  private static void selfCheck(Provider candidate) throws GeneralSecurityException {
    Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new java.security.SecureRandom());
    byte[] message = "token-authority native Ed25519 check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Signature signature = Signature.getInstance("Ed25519", candidate);
    signature.initSign(privateKey(key));
    signature.update(message);
    byte[] nativeSignature = signature.sign();
    byte[] expected = new byte[Ed25519.SIGNATURE_SIZE];
    key.sign(Ed25519.Algorithm.Ed25519, key.generatePublicKey(), null, message, 0, message.length, expected, 0);
    if (!Arrays.equals(nativeSignature, expected)) {
      throw new GeneralSecurityException("its signature differs from BouncyCastle's");
    }
  }
}
