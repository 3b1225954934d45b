package dev.tokenauthority.server.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tokenauthority.server.testing.JdkEd25519;
import dev.tokenauthority.server.testing.NativePlatform;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.junit.jupiter.api.Test;

/**
 * Native Ed25519 signatures are BouncyCastle's, byte for byte, from any number of threads; a
 * native provider that fails hands signing back to BouncyCastle without a wrong signature.
 */
class Ed25519SignerTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A provider of its own for each test, loaded: on the platform the jar carries it for, it must load. */
  private static NativeEd25519 loaded() {
    NativeEd25519 loaded = new NativeEd25519();
    boolean active = loaded.load();
    if (NativePlatform.carriesAwsLc()) {
      assertThat(active).as("AWS-LC loads on Linux x86-64 with glibc").isTrue();
    }
    assumeTrue(active, "the native provider does not load on this platform");
    return loaded;
  }

  @Test
  void nativeSignatures_areBouncyCastles_byteForByte_atAnyOffsetAndLength() throws Exception {
    NativeEd25519 loaded = loaded();
    for (int k = 0; k < 20; k++) {
      Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(RANDOM);
      Ed25519Signer nativeSigner = new Ed25519Signer(key, loaded);
      Ed25519Signer bouncyCastle = new Ed25519Signer(key, new NativeEd25519());
      for (int m = 0; m < 25; m++) {
        byte[] buffer = new byte[RANDOM.nextInt(1_200)];
        RANDOM.nextBytes(buffer);
        int offset = buffer.length == 0 ? 0 : RANDOM.nextInt(buffer.length);
        int length = buffer.length - offset == 0 ? 0 : RANDOM.nextInt(buffer.length - offset + 1);

        byte[] expected = sign(bouncyCastle, buffer, offset, length);
        assertThat(sign(nativeSigner, buffer, offset, length)).isEqualTo(expected);
        assertThat(verifiesWithTheJdk(key, buffer, offset, length, expected)).isTrue();
      }
      assertThat(nativeSigner.pooledNativeSignatures()).as("signed natively").isEqualTo(1);
      assertThat(bouncyCastle.pooledNativeSignatures()).isZero();
    }
    assertThat(loaded.active()).as("no native failure").isTrue();
  }

  @Test
  void manyThreadsSigningAtOnce_eachGetTheirOwnMessagesSignature() throws Exception {
    NativeEd25519 loaded = loaded();
    Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(RANDOM);
    Ed25519Signer nativeSigner = new Ed25519Signer(key, loaded);
    Ed25519Signer bouncyCastle = new Ed25519Signer(key, new NativeEd25519());
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        done.add(threads.submit(() -> {
          int matched = 0;
          for (int i = 0; i < 300; i++) {
            byte[] message = new byte[64 + RANDOM.nextInt(300)];
            RANDOM.nextBytes(message);
            if (java.util.Arrays.equals(sign(nativeSigner, message, 0, message.length),
                sign(bouncyCastle, message, 0, message.length))) {
              matched++;
            }
          }
          return matched;
        }));
      }
      for (Future<Integer> f : done) {
        assertThat(f.get()).isEqualTo(300);
      }
      assertThat(loaded.active()).as("no native failure").isTrue();
      assertThat(nativeSigner.pooledNativeSignatures()).as("signed natively, one signature per thread at most")
          .isBetween(1, 8);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void theFirstSignatureLoadsTheProvider_onlyWhenWanted() throws Exception {
    assumeTrue(NativePlatform.carriesAwsLc(), "the native provider does not load on this platform");
    NativeEd25519 lazy = new NativeEd25519();
    Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(RANDOM);
    Ed25519Signer signer = new Ed25519Signer(key, lazy);
    byte[] message = "header.payload".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] expected = sign(new Ed25519Signer(key, new NativeEd25519()), message, 0, message.length);

    assertThat(sign(signer, message, 0, message.length)).isEqualTo(expected);
    Thread.sleep(300);
    assertThat(lazy.active()).as("--native-signing off: never loaded").isFalse();

    lazy.loadOnFirstSignature();
    assertThat(lazy.active()).as("nothing loads before a signature").isFalse();
    assertThat(sign(signer, message, 0, message.length)).isEqualTo(expected);
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!lazy.active() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(lazy.active()).as("loaded in the background after the first signature").isTrue();
    assertThat(sign(signer, message, 0, message.length)).isEqualTo(expected);
    assertThat(signer.pooledNativeSignatures()).as("signed natively").isEqualTo(1);
  }

  @Test
  void aNativeProviderThatFails_signsWithBouncyCastleInstead_andIsNotAskedAgain() throws Exception {
    FailingSignature.calls = 0;
    FailingProvider failing = new FailingProvider();
    NativeEd25519 broken = new NativeEd25519(failing);
    Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(RANDOM);
    Ed25519Signer signer = new Ed25519Signer(key, broken);
    byte[] message = "header.payload".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    byte[] signature = sign(signer, message, 0, message.length);

    assertThat(signature).isEqualTo(sign(new Ed25519Signer(key, new NativeEd25519()), message, 0, message.length));
    assertThat(verifiesWithTheJdk(key, message, 0, message.length, signature)).isTrue();
    assertThat(broken.active()).isFalse();
    sign(signer, message, 0, message.length);
    assertThat(FailingSignature.calls).as("the failed provider is not asked again").isEqualTo(1);
  }

  private static byte[] sign(Ed25519Signer signer, byte[] buffer, int offset, int length) {
    byte[] signature = new byte[Ed25519Signer.SIGNATURE_LENGTH];
    signer.sign(buffer, offset, length, signature);
    return signature;
  }

  /** Checked by a third implementation, the JDK's own. */
  private static boolean verifiesWithTheJdk(
      Ed25519PrivateKeyParameters key, byte[] buffer, int offset, int length, byte[] signature) throws Exception {
    return JdkEd25519.verifies(JdkEd25519.publicKey(key.generatePublicKey().getEncoded()), buffer, offset, length, signature);
  }

  /** A provider whose Ed25519 signature always fails, as a native library gone wrong would. */
  static final class FailingProvider extends Provider {
    FailingProvider() {
      super("Failing", "1", "an Ed25519 that fails");
      put("Signature.Ed25519", FailingSignature.class.getName());
    }
  }

  public static final class FailingSignature extends SignatureSpi {
    static volatile int calls;

    @Override
    protected void engineInitVerify(PublicKey publicKey) {}

    @Override
    protected void engineInitSign(java.security.PrivateKey privateKey) {}

    @Override
    protected void engineUpdate(byte b) {}

    @Override
    protected void engineUpdate(byte[] b, int off, int len) {}

    @Override
    protected byte[] engineSign() throws SignatureException {
      calls++;
      throw new SignatureException("the native library failed");
    }

    @Override
    protected boolean engineVerify(byte[] sigBytes) {
      return false;
    }

    @Override
    @Deprecated
    protected void engineSetParameter(String param, Object value) {}

    @Override
    @Deprecated
    protected Object engineGetParameter(String param) {
      return null;
    }
  }
}
