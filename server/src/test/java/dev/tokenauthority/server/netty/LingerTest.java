package dev.tokenauthority.server.netty;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a lingering close may close: after a quiet spell once the FIN is out, or at the latest. */
class LingerTest {
  private static final long MS = 1_000_000L;
  private static final long QUIET = Linger.QUIET.toNanos();
  private static final long MAX = Linger.MAX.toNanos();

  @Test
  void beforeTheFinIsOut_itWaitsUpToTheLongest_whateverTheClientDoes() {
    Linger linger = new Linger(0);
    assertThat(linger.nanosToWait(QUIET + 100 * MS)).isEqualTo(MAX - QUIET - 100 * MS);
    assertThat(linger.nanosToWait(MAX)).isLessThanOrEqualTo(0);
  }

  @Test
  void onceTheFinIsOut_aQuietClientIsClosedAfterTheQuietSpell_countedFromTheFin() {
    Linger linger = new Linger(0);
    linger.finSent(200 * MS);
    assertThat(linger.nanosToWait(200 * MS)).isEqualTo(QUIET);
    assertThat(linger.nanosToWait(200 * MS + QUIET)).isLessThanOrEqualTo(0);
  }

  @Test
  void aClientStillSending_putsTheCloseOff_butNotPastTheLongest() {
    Linger linger = new Linger(0);
    linger.finSent(10 * MS);
    linger.heard(400 * MS);
    assertThat(linger.nanosToWait(500 * MS)).isEqualTo(400 * MS + QUIET - 500 * MS);
    linger.heard(MAX - MS);
    assertThat(linger.nanosToWait(MAX - MS)).isEqualTo(MS);
    assertThat(linger.nanosToWait(MAX)).isLessThanOrEqualTo(0);
  }
}
