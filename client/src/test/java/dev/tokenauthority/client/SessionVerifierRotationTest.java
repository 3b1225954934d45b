package dev.tokenauthority.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.testing.InProcessAuthority;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The verifier across a rotation made the way an operator makes it, through the
 * RotateSigningKey RPC of the served TenantAdmin service. {@link SessionVerifierTest} covers the
 * same through the server's SigningKeys directly.
 */
class SessionVerifierRotationTest {
  private InProcessAuthority ta;

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
  }

  @Test
  void rotateSigningKeyRpc_verifierPicksUpTheNewKey_andKeepsTheOld() {
    TokenAuthorityClient admin = TokenAuthorityClient.builder().channel(ta.channel()).apiKey(ta.adminSecret()).build();
    SessionVerifier verifier = SessionVerifier.builder(admin).tenant("default").clock(ta.clock()).build();
    String before = admin.mintSession("rep_8842").token();
    String oldKid = verifier.verify(before).kid();

    // Keys made in the same instant would tie for newest; a real rotation comes later.
    ta.clock().advanceSeconds(1);
    SigningKeyRotation rotation = admin.rotateSigningKey();
    String after = admin.mintSession("rep_8842").token();
    ta.clock().advanceSeconds(5);

    assertThat(verifier.verify(after).kid()).isEqualTo(rotation.kid()).isNotEqualTo(oldKid);
    assertThat(verifier.verify(before).kid()).isEqualTo(oldKid);
  }
}
