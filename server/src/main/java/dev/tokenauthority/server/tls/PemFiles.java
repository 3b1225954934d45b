package dev.tokenauthority.server.tls;

import dev.tokenauthority.server.config.FileProblems;
import dev.tokenauthority.server.config.SettingException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads PEM files as operators have them: certificate chains, and private keys in PKCS#8
 * ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1
 * ({@code BEGIN EC PRIVATE KEY}). Every failure names the setting the file came from.
 */
final class PemFiles {
  private PemFiles() {}

  /** The certificates of a PEM file, leaf first; at least one. */
  static X509Certificate[] certificates(Path file, String setting) {
    try (InputStream in = Files.newInputStream(file)) {
      X509Certificate[] certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(new X509Certificate[0]);
      if (certs.length == 0) {
        throw new SettingException(setting, file + " holds no PEM certificate");
      }
      return certs;
    } catch (IOException e) {
      throw new SettingException(setting, "cannot read " + file + ": " + FileProblems.reason(e));
    } catch (CertificateException e) {
      throw new SettingException(setting, file + " is not a PEM certificate file");
    }
  }

  /** The one private key of a PEM file. */
  static PrivateKey privateKey(Path file, String setting) {
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(in)) {
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (o instanceof PEMKeyPair pair) {
          // Only the private half: a SEC1 key need not carry its public key.
          return converter.getPrivateKey(pair.getPrivateKeyInfo());
        }
        if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
          throw new SettingException(setting, file + " holds an encrypted private key; give it unencrypted (mode 0600)");
        }
      }
      throw new SettingException(setting, file + " holds no PEM private key");
    } catch (IOException e) {
      throw new SettingException(setting, "cannot read " + file + ": " + FileProblems.reason(e));
    }
  }

  /**
   * Whether the private key belongs to the certificate: a signature made with the key verifies
   * with the certificate's public key.
   */
  static boolean matches(PrivateKey key, X509Certificate cert) {
    PublicKey pub = cert.getPublicKey();
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          case "Ed448" -> "Ed448";
          default -> null;
        };
    if (algorithm == null || !key.getAlgorithm().equals(pub.getAlgorithm()) && !isEdDsa(key, pub)) {
      return false;
    }
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(pub);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static boolean isEdDsa(PrivateKey key, PublicKey pub) {
    return key.getAlgorithm().startsWith("Ed") && pub.getAlgorithm().startsWith("Ed");
  }

}
