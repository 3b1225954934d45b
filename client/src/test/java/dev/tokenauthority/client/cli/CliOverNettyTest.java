package dev.tokenauthority.client.cli;

import static dev.tokenauthority.client.cli.SessionCommandsTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.client.testing.NettyAuthority;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.GetJwksResponse;
import dev.tokenauthority.v1.MintSessionResponse;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CLI's own network client against the server listening on a real port, and against no server at all. */
class CliOverNettyTest {
  private NettyAuthority server;
  private CliRunner cli;

  @BeforeEach
  void start() {
    server = NettyAuthority.start();
    cli = new CliRunner(ClientFactory.overNetwork(), Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private CliRunner.Result run(String apiKey, String... args) {
    String[] all = new String[args.length + 5];
    all[0] = "--target";
    all[1] = server.target();
    all[2] = "--plaintext";
    all[3] = "--api-key";
    all[4] = apiKey;
    System.arraycopy(args, 0, all, 5, args.length);
    return cli.run(all);
  }

  @Test
  void seedFlow_createKeyMintRedeem_overTheNetwork() {
    CliRunner.Result created = run(server.adminSecret(), "--json", "keys", "create", "--name", "backend", "--scope", "sessions:mint,sessions:redeem");
    String key = parse(created.out(), CreateApiKeyResponse.newBuilder()).getSecret();

    CliRunner.Result minted = run(key, "--json", "sessions", "mint", "--user", "rep_8842", "--context", "{\"persona\":\"Alex\"}");
    String token = parse(minted.out(), MintSessionResponse.newBuilder()).getToken();
    CliRunner.Result redeemed = run(key, "sessions", "redeem", token);
    CliRunner.Result again = run(key, "sessions", "redeem", token);

    assertThat(redeemed.code()).as("%s", redeemed).isZero();
    assertThat(redeemed.out()).containsPattern("(?m)^user +rep_8842$").contains("{\"persona\":\"Alex\"}");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).startsWith("error: TOKEN_ALREADY_USED: ");
  }

  @Test
  void jwks_json_isTheJwkSet() {
    CliRunner.Result r = run(server.adminSecret(), "--json", "jwks");

    assertThat(r.code()).as("%s", r).isZero();
    GetJwksResponse jwks = parse(r.out(), GetJwksResponse.newBuilder()).build();
    assertThat(jwks.getKeys(0).getKty()).isEqualTo("OKP");
    assertThat(r.out()).startsWith("{\n  \"keys\": [");
  }

  @Test
  void apiKeyFromTheEnvironment_overTheNetwork() {
    CliRunner.Result r =
        cli.env(Map.of("TOKEN_AUTHORITY_API_KEY", server.adminSecret())).run("--target", server.target(), "--plaintext", "jwks");

    assertThat(r.code()).as("%s", r).isZero();
  }

  @Test
  void noServerListening_exitsTwoUnavailable() throws Exception {
    int freePort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      freePort = s.getLocalPort();
    }

    CliRunner.Result r = cli.run("--target", "127.0.0.1:" + freePort, "--plaintext", "--api-key", "sk_whatever", "jwks");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: UNAVAILABLE: ").contains("Connection refused");
  }

  @Test
  void tlsToAPlaintextServer_exitsTwoUnavailable() {
    CliRunner.Result r = cli.run("--target", server.target(), "--api-key", server.adminSecret(), "jwks");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: UNAVAILABLE: ").doesNotContain(server.adminSecret());
  }
}
