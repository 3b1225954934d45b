package dev.tokenauthority.server.testing;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made for one test run: a CA, server certificates for {@code localhost} and
 * {@code 127.0.0.1}, client certificates, written as PEM files. Nothing is committed: every run
 * makes its own.
 */
public final class TestCertificates {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());
  private static final AtomicLong LAST_MODIFIED = new AtomicLong();

  private TestCertificates() {}

  /** A certificate and its key pair. */
  public record Issued(X509Certificate certificate, KeyPair keys) {
    /** Writes the certificate to {@code cert} and the key, PKCS#8, to {@code key}. */
    public void write(Path cert, Path key) throws IOException {
      writeCertificate(cert, certificate);
      writePkcs8(key, keys.getPrivate());
    }
  }

  /** A certificate authority that signs the others. */
  public static final class Ca {
    private final Issued self;
    private final X500Name name;

    private Ca(Issued self, X500Name name) {
      this.self = self;
      this.name = name;
    }

    public X509Certificate certificate() {
      return self.certificate();
    }

    /** Writes the CA certificate, the file a peer trusts. */
    public void write(Path cert) throws IOException {
      writeCertificate(cert, self.certificate());
    }

    /** A server certificate for localhost and 127.0.0.1, on an EC P-256 key. */
    public Issued server(String commonName) {
      return issue(commonName, ecKeys(), KeyPurposeId.id_kp_serverAuth, true);
    }

    /** A server certificate for localhost and 127.0.0.1, on an RSA key. */
    public Issued rsaServer(String commonName) {
      return issue(commonName, rsaKeys(), KeyPurposeId.id_kp_serverAuth, true);
    }

    /** A client certificate. */
    public Issued client(String commonName) {
      return issue(commonName, ecKeys(), KeyPurposeId.id_kp_clientAuth, false);
    }

    private Issued issue(String commonName, KeyPair keys, KeyPurposeId purpose, boolean withHostNames) {
      try {
        Instant now = Instant.now();
        X509v3CertificateBuilder b =
            new JcaX509v3CertificateBuilder(
                name,
                BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(1))),
                new X500Name("CN=" + commonName),
                keys.getPublic());
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(self.certificate()));
        if (withHostNames) {
          b.addExtension(
              Extension.subjectAlternativeName,
              false,
              new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")
              }));
        }
        return new Issued(sign(b, self.keys().getPrivate()), keys);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A new self-signed CA. */
  public static Ca ca(String commonName) {
    try {
      KeyPair keys = ecKeys();
      X500Name name = new X500Name("CN=" + commonName);
      Instant now = Instant.now();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              name,
              BigInteger.valueOf(SERIALS.incrementAndGet()),
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(Duration.ofDays(2))),
              name,
              keys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(
          Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
      return new Ca(new Issued(sign(b, keys.getPrivate()), keys), name);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws GeneralSecurityException {
    try {
      ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey);
      return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair ecKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair rsaKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048, RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes certificates as PEM, in order. */
  public static void writeCertificate(Path file, X509Certificate... chain) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII); JcaPEMWriter pem = new JcaPEMWriter(w)) {
      for (X509Certificate c : chain) {
        pem.writeObject(c);
      }
    }
    touch(file);
  }

  /** Writes a private key as PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
  public static void writePkcs8(Path file, PrivateKey key) throws IOException {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded());
    Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
    touch(file);
  }

  /**
   * Writes a key pair in OpenSSL's traditional encoding: PKCS#1 ({@code BEGIN RSA PRIVATE KEY})
   * for RSA, SEC1 ({@code BEGIN EC PRIVATE KEY}) for EC.
   */
  public static void writeTraditional(Path file, KeyPair keys) throws IOException {
    if (keys.getPrivate().getAlgorithm().equals("EC")) {
      // As OpenSSL writes it: with the curve and the public key inside (the JDK's encoding,
      // which BouncyCastle's writer would copy, has neither).
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
      ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
      ECPrivateKey sec1 =
          new ECPrivateKey(
              256,
              inner.getKey(),
              SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData(),
              info.getPrivateKeyAlgorithm().getParameters());
      String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(sec1.getEncoded());
      Files.writeString(file, "-----BEGIN EC PRIVATE KEY-----\n" + body + "\n-----END EC PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
    } else {
      try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII); JcaPEMWriter pem = new JcaPEMWriter(w)) {
        pem.writeObject(keys);
      }
    }
    touch(file);
  }

  /**
   * Moves the file's modification time past any earlier write, so that a rewrite within the
   * file system's time resolution still shows as a change.
   */
  private static void touch(Path file) throws IOException {
    long millis = LAST_MODIFIED.updateAndGet(previous -> Math.max(System.currentTimeMillis(), previous + 1000));
    Files.setLastModifiedTime(file, FileTime.fromMillis(millis));
  }
}
