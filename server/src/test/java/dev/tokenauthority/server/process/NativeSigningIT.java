package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.Jwk;
import dev.tokenauthority.v1.MintSessionResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jar loads AWS-LC at its first mint, on the platform it carries the library for,
 * says which implementation signs in one line, and its tokens verify against the published key
 * with the JDK's own Ed25519; {@code --native-signing off} keeps BouncyCastle.
 */
class NativeSigningIT extends ProcessTestBase {
  private static final String NATIVE = "Ed25519 signatures by AWS-LC";

  @TempDir Path dataDir;

  @Test
  void byDefault_theFirstMintLoadsNativeSigning_andItsTokensVerifyWithThePublishedKey() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin));
    PublicKey published = publishedKey(server, admin);
    Thread.sleep(500);
    assertThat(server.stdout()).as("nothing loaded before a mint").doesNotContain("Ed25519 signatures by");

    assertThat(verifies(mint(server, admin, "first", 1).getToken(), published)).as("signed by BouncyCastle").isTrue();

    boolean nativePlatform = System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64");
    awaitLine(server, nativePlatform ? NATIVE : "Ed25519 signatures by BouncyCastle");
    for (int i = 0; i < 50; i++) {
      MintSessionResponse minted = mint(server, admin, "user-" + i, 1);
      assertThat(verifies(minted.getToken(), published)).as("token %d", i).isTrue();
    }
    assertThat(server.output()).doesNotContain("WARN").doesNotContain("Exception");
  }

  @Test
  void nativeSigningOff_signsWithBouncyCastle_sayingSo_withTokensThatVerifyAlike() throws Exception {
    String admin = secret(ServerProcess.randomSecret());
    ServerProcess server = start(dataDir, Map.of("TOKEN_AUTHORITY_ADMIN_KEY", admin), "--native-signing", "off");

    awaitLine(server, "Ed25519 signatures by BouncyCastle (--native-signing off)");
    PublicKey published = publishedKey(server, admin);
    for (int i = 0; i < 10; i++) {
      assertThat(verifies(mint(server, admin, "user-" + i, 1).getToken(), published)).isTrue();
    }
    assertThat(server.stdout()).doesNotContain(NATIVE);
  }

  private static void awaitLine(ServerProcess server, String line) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!server.stdout().contains(line) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(server.stdout()).as(server.describe()).contains(line);
  }

  /** The active key of the JWK Set, as an offline verifier builds it from {@code x}. */
  private static PublicKey publishedKey(ServerProcess server, String admin) throws Exception {
    Jwk jwk = server.stub(admin).getJwks(GetJwksRequest.getDefaultInstance()).getKeys(0);
    byte[] raw = Base64.getUrlDecoder().decode(jwk.getX());
    byte[] spki = new byte[12 + raw.length];
    System.arraycopy(new byte[] {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}, 0, spki, 0, 12);
    System.arraycopy(raw, 0, spki, 12, raw.length);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
  }

  /** The JDK's Ed25519, neither of the server's two, checks the signature over header.payload. */
  private static boolean verifies(String token, PublicKey key) throws Exception {
    int lastDot = token.lastIndexOf('.');
    Signature jdk = Signature.getInstance("Ed25519");
    jdk.initVerify(key);
    jdk.update(token.substring(0, lastDot).getBytes(StandardCharsets.US_ASCII));
    return jdk.verify(Base64.getUrlDecoder().decode(token.substring(lastDot + 1)));
  }
}
