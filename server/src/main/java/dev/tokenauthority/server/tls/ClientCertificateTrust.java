package dev.tokenauthority.server.tls;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Whether a connection's client certificate is trusted by the client CAs served now. TLS checks
 * a client certificate in the full handshake only: a connection opened before a CA was removed
 * from {@code --tls-client-ca}, and a session resumed later from a ticket issued before, are
 * never checked again. So every call on a port that requires client certificates asks this
 * first. The first call of a session after the CAs changed checks its chain again (PKIX, as the
 * handshake does, validity dates included); the verdict is kept on the session, so the other
 * calls read one value.
 */
public final class ClientCertificateTrust {
  /** The session value holding this trust's verdict on it. */
  private static final String VERDICT = ClientCertificateTrust.class.getName();

  private volatile Anchors anchors;

  /** One set of CAs, and the two verdicts issued under it (compared by identity). */
  private record Anchors(X509TrustManager pkix, Object trusted, Object refused) {}

  ClientCertificateTrust(X509Certificate[] cas) throws GeneralSecurityException {
    update(cas);
  }

  /** From now on, sessions are judged by these CAs; verdicts given under the old ones are void. */
  void update(X509Certificate[] cas) throws GeneralSecurityException {
    anchors = new Anchors(pkix(cas), new Object(), new Object());
  }

  private static X509TrustManager pkix(X509Certificate[] cas) throws GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    try {
      store.load(null, null);
    } catch (java.io.IOException e) {
      throw new GeneralSecurityException(e);
    }
    for (int i = 0; i < cas.length; i++) {
      store.setCertificateEntry("ca-" + i, cas[i]);
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    factory.init(store);
    for (TrustManager m : factory.getTrustManagers()) {
      if (m instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager for the client CAs");
  }

  /**
   * Whether the client certificate of this TLS session chains to one of the CAs served now.
   *
   * @param session null (no TLS) is not trusted
   */
  public boolean trusts(SSLSession session) {
    if (session == null) {
      return false;
    }
    Anchors current = anchors;
    Object verdict = session.getValue(VERDICT);
    if (verdict == current.trusted()) {
      return true;
    }
    if (verdict == current.refused()) {
      return false;
    }
    boolean trusted = check(current.pkix(), session);
    session.putValue(VERDICT, trusted ? current.trusted() : current.refused());
    return trusted;
  }

  private static boolean check(X509TrustManager pkix, SSLSession session) {
    try {
      Certificate[] peer = session.getPeerCertificates();
      if (peer.length == 0) {
        return false;
      }
      X509Certificate[] chain = Arrays.copyOf(peer, peer.length, X509Certificate[].class);
      pkix.checkClientTrusted(chain, chain[0].getPublicKey().getAlgorithm());
      return true;
    } catch (SSLPeerUnverifiedException | CertificateException | ArrayStoreException e) {
      return false;
    }
  }
}
