package dev.tokenauthority.server.signing;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Signs with one Ed25519 private key: natively once {@link NativeEd25519} has loaded, with
 * BouncyCastle (the key decoded once) before and wherever it does not. Initialised native
 * {@link Signature}s are kept in a lock-free pool of this key's, about one per thread that signs
 * at once, so a signature costs no key set-up and no lock; when a rotation drops this signer,
 * its pool and the key copies in it go with it.
 */
final class Ed25519Signer {
  static final int SIGNATURE_LENGTH = Ed25519.SIGNATURE_SIZE;

  private final Ed25519PrivateKeyParameters privateKey;
  private final Ed25519PublicKeyParameters publicKey;
  private final NativeEd25519 nativeEd25519;
  private final Queue<Signature> nativeSignatures = new ConcurrentLinkedQueue<>();
  /** The key in the JCA form the native provider takes, made on its first use. */
  private volatile PrivateKey jcaKey;

  Ed25519Signer(Ed25519PrivateKeyParameters privateKey, NativeEd25519 nativeEd25519) {
    this.privateKey = privateKey;
    this.publicKey = privateKey.generatePublicKey();
    this.nativeEd25519 = nativeEd25519;
  }

  /** Writes the signature of {@code length} bytes of {@code message} at {@code offset} into {@code signature}. */
  void sign(byte[] message, int offset, int length, byte[] signature) {
    Provider provider = nativeEd25519.provider();
    if (provider != null) {
      try {
        Signature s = nativeSignature(provider);
        s.update(message, offset, length);
        if (s.sign(signature, 0, SIGNATURE_LENGTH) == SIGNATURE_LENGTH) {
          nativeSignatures.offer(s);
          return;
        }
        throw new GeneralSecurityException("a signature of an unexpected length");
      } catch (GeneralSecurityException | RuntimeException e) {
        // Never used again, nor the others: BouncyCastle signs from now on.
        nativeSignatures.clear();
        nativeEd25519.disable(e);
      }
    }
    privateKey.sign(Ed25519.Algorithm.Ed25519, publicKey, null, message, offset, length, signature, 0);
    nativeEd25519.bouncyCastleSigned();
  }

  /** How many initialised native signatures this key holds, for tests. */
  int pooledNativeSignatures() {
    return nativeSignatures.size();
  }

  private Signature nativeSignature(Provider provider) throws GeneralSecurityException {
    Signature s = nativeSignatures.poll();
    if (s != null) {
      return s;
    }
    PrivateKey key = jcaKey;
    if (key == null) {
      key = NativeEd25519.privateKey(privateKey);
      jcaKey = key;
    }
    s = Signature.getInstance("Ed25519", provider);
    s.initSign(key);
    return s;
  }
}
