package dev.tokenauthority.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.v1.IntrospectResponse;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code sessions mint|redeem|introspect|revoke} against the real server: output, JSON and exit codes. */
class SessionCommandsTest {
  private InProcessAuthority ta;
  private CliRunner cli;
  private String key;

  @BeforeEach
  void start() {
    ta = InProcessAuthority.start();
    cli = CliRunner.inProcess(ta);
    key = ta.createKey("sessions:mint", "sessions:redeem");
  }

  @AfterEach
  void stop() throws Exception {
    ta.close();
  }

  private CliRunner.Result run(String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "--api-key";
    all[1] = key;
    System.arraycopy(args, 0, all, 2, args.length);
    return cli.run(all);
  }

  static <T extends Message.Builder> T parse(String json, T builder) {
    try {
      JsonFormat.parser().merge(json, builder);
    } catch (Exception e) {
      throw new AssertionError("not the expected JSON: " + json, e);
    }
    return builder;
  }

  private String mintToken(String... options) {
    String[] args = new String[options.length + 5];
    args[0] = "--json";
    args[1] = "sessions";
    args[2] = "mint";
    args[3] = "--user";
    args[4] = "rep_8842";
    System.arraycopy(options, 0, args, 5, options.length);
    CliRunner.Result r = run(args);
    assertThat(r.code()).as("%s", r).isZero();
    return parse(r.out(), MintSessionResponse.newBuilder()).getToken();
  }

  @Test
  void mint_text_printsTokenSessionAndExpiry() {
    CliRunner.Result r = run("sessions", "mint", "--user", "rep_8842");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out())
        .containsPattern("(?m)^token +eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")
        .containsPattern("(?m)^session_id +ses_\\w+$")
        .contains("expires     " + TestClock.DEFAULT_START.plusSeconds(300) + " (in 300 s)");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void mint_json_isTheResponse() {
    CliRunner.Result r = run("sessions", "mint", "--user", "rep_8842", "--ttl", "2m", "--json");

    MintSessionResponse minted = parse(r.out(), MintSessionResponse.newBuilder()).build();
    assertThat(minted.getExpiresInSeconds()).isEqualTo(120);
    assertThat(minted.getSessionId()).startsWith("ses_");
  }

  @Test
  void mintWithEveryOption_redeemJson_returnsThem() {
    String token =
        mintToken(
            "--group", "agency_chicago", "--audience", "roleplay", "--ttl", "600", "--max-uses", "2",
            "--scope", "sessions:redeem", "--context", "{\"persona\":\"Alex\",\"level\":3}");

    CliRunner.Result r = run("--json", "sessions", "redeem", token, "--audience", "roleplay");

    assertThat(r.code()).as("%s", r).isZero();
    RedeemResponse redeemed = parse(r.out(), RedeemResponse.newBuilder()).build();
    assertThat(redeemed.getExternalUserId()).isEqualTo("rep_8842");
    assertThat(redeemed.getExternalGroupId()).isEqualTo("agency_chicago");
    assertThat(redeemed.getScopesList()).containsExactly("sessions:redeem");
    assertThat(redeemed.getUsesRemaining()).isEqualTo(1);
    assertThat(redeemed.getContext().getFieldsOrThrow("persona").getStringValue()).isEqualTo("Alex");
    assertThat(redeemed.getExpireTime().getSeconds()).isEqualTo(TestClock.DEFAULT_START.plusSeconds(600).getEpochSecond());
  }

  @Test
  void redeem_text_showsWhoAndContext() {
    String token = mintToken("--context", "{\"persona\":\"Alex\"}");

    CliRunner.Result r = run("sessions", "redeem", token);

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out())
        .containsPattern("(?m)^user +rep_8842$")
        .containsPattern("(?m)^context +\\{\"persona\":\"Alex\"\\}$")
        .containsPattern("(?m)^uses_remaining +0$");
  }

  @Test
  void redeem_stdoutFull_exits3_notZero_sinceTheUseWasTakenAndItsAnswerLost() {
    String token = mintToken();

    CliRunner.Result r = cli.runWithStdoutFailing("--api-key", key, "sessions", "redeem", token);

    assertThat(r.code()).as("%s", r).isEqualTo(3);
    assertThat(r.err()).contains("could not be written to stdout");
    assertThat(run("sessions", "redeem", token).err()).startsWith("error: TOKEN_ALREADY_USED");
  }

  @Test
  void redeemOrIntrospect_ofAnEmptyToken_isAUsageError_exit1_withoutACall() {
    for (String command : List.of("redeem", "introspect")) {
      CliRunner.Result r = run("sessions", command, "");

      assertThat(r.code()).as("%s", r).isEqualTo(1);
      assertThat(r.err()).contains("the token is empty");
    }
  }

  @Test
  void redeem_twice_secondExitsTwoWithTheReasonOnStderr() {
    String token = mintToken();
    run("sessions", "redeem", token);

    CliRunner.Result second = run("sessions", "redeem", token);

    assertThat(second.code()).isEqualTo(2);
    assertThat(second.out()).isEmpty();
    assertThat(second.err()).startsWith("error: TOKEN_ALREADY_USED: ").doesNotContain(token);
  }

  @Test
  void redeem_tokenFromStdin() {
    String token = mintToken();

    CliRunner.Result r = cli.stdin(token + "\n").run("--api-key", key, "sessions", "redeem", "-");

    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.out()).containsPattern("(?m)^user +rep_8842$");
  }

  @Test
  void redeem_otherAudience_isAudienceMismatch() {
    String token = mintToken("--audience", "roleplay");

    CliRunner.Result r = run("sessions", "redeem", token, "--audience", "billing");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: AUDIENCE_MISMATCH: ");
  }

  @Test
  void mint_ttlTooLong_exitsTwoNamingTheField() {
    CliRunner.Result r = run("sessions", "mint", "--user", "rep_8842", "--ttl", "2d");

    assertThat(r.code()).isEqualTo(2);
    // One bad field: the server's message is that field's line, so it is not repeated.
    assertThat(r.err()).startsWith("error: INVALID_TTL: ttl_seconds: ").hasLineCount(1);
  }

  @Test
  void mint_withoutUser_isAUsageError() {
    CliRunner.Result r = run("sessions", "mint");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--user");
  }

  @Test
  void introspect_activeThenUsed_exitsZeroBothTimes() {
    String token = mintToken();

    CliRunner.Result active = run("sessions", "introspect", token);
    run("sessions", "redeem", token);
    CliRunner.Result used = run("sessions", "introspect", token);
    CliRunner.Result usedJson = run("--json", "sessions", "introspect", token);

    assertThat(active.code()).isZero();
    assertThat(active.out()).containsPattern("(?m)^active +true$").containsPattern("(?m)^uses_remaining +1$");
    assertThat(used.code()).isZero();
    assertThat(used.out()).containsPattern("(?m)^active +false$").containsPattern("(?m)^reason +TOKEN_ALREADY_USED$");
    IntrospectResponse json = parse(usedJson.out(), IntrospectResponse.newBuilder()).build();
    assertThat(json.getActive()).isFalse();
    assertThat(usedJson.out()).contains("\"active\": false");
  }

  @Test
  void revoke_thenRedeem_isTokenRevoked() {
    CliRunner.Result minted = run("--json", "sessions", "mint", "--user", "rep_8842");
    MintSessionResponse m = parse(minted.out(), MintSessionResponse.newBuilder()).build();

    CliRunner.Result revoked = run("sessions", "revoke", m.getSessionId());
    CliRunner.Result redeem = run("sessions", "redeem", m.getToken());

    assertThat(revoked.code()).isZero();
    assertThat(revoked.out()).isEqualTo("revoked " + m.getSessionId() + " at " + TestClock.DEFAULT_START + "\n");
    assertThat(redeem.code()).isEqualTo(2);
    assertThat(redeem.err()).startsWith("error: TOKEN_REVOKED: ");
  }
}
