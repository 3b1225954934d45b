package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.JdkEd25519;
import dev.tokenauthority.server.testing.NativePlatform;
import dev.tokenauthority.v1.GetJwksRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
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

    assertThat(JdkEd25519.verifies(mint(server, admin, "first", 1).getToken(), published)).as("signed by BouncyCastle").isTrue();

    awaitLine(server, NativePlatform.carriesAwsLc() ? NATIVE : "Ed25519 signatures by BouncyCastle");
    for (int i = 0; i < 50; i++) {
      MintSessionResponse minted = mint(server, admin, "user-" + i, 1);
      assertThat(JdkEd25519.verifies(minted.getToken(), published)).as("token %d", i).isTrue();
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
      assertThat(JdkEd25519.verifies(mint(server, admin, "user-" + i, 1).getToken(), published)).isTrue();
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
    return JdkEd25519.publicKey(server.stub(admin).getJwks(GetJwksRequest.getDefaultInstance()).getKeys(0));
  }
}
