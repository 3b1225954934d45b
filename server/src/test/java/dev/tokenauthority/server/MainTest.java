package dev.tokenauthority.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenauthority.server.config.OptionConverters;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The settings, read in-process: flag beats environment beats file beats default; {@code --help}
 * lists them all; a bad one stops the start with exit code 2 and one line naming it. Every case
 * here fails before a store is opened or a port is bound.
 */
class MainTest {
  @TempDir Path dir;

  /** What a run printed and returned. */
  private record Run(int exit, String out, String err) {
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  private static Run run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Main.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path configFile(String... lines) throws Exception {
    Path file = dir.resolve("token-authority.properties");
    Files.write(file, List.of(lines));
    return file;
  }

  /** The run must stop at once with 2 and exactly one line on stderr, which is returned. */
  private static String refused(Run run) {
    assertThat(run.exit()).as("exit code; stderr: %s", run.err()).isEqualTo(2);
    assertThat(run.errLines()).as("stderr").hasSize(1);
    assertThat(run.out()).as("stdout").isEmpty();
    String line = run.errLines().get(0);
    assertThat(line).startsWith("token-authority: ").doesNotContain("Exception").doesNotContain("Usage");
    return line;
  }

  @Test
  void nettysJfrEvents_areOffByDefault_andOnWhenTheOperatorSaysSo() {
    String shaded = "io.grpc.netty.shaded.io.netty.jfr.enabled";
    String plain = "io.netty.jfr.enabled";
    String shadedBefore = System.getProperty(shaded);
    String plainBefore = System.getProperty(plain);
    try {
      System.clearProperty(shaded);
      System.setProperty(plain, "true");

      Main.keepNettyJfrEventsOff();

      assertThat(System.getProperty(shaded)).isEqualTo("false");
      assertThat(System.getProperty(plain)).isEqualTo("true");
    } finally {
      restore(shaded, shadedBefore);
      restore(plain, plainBefore);
    }
  }

  private static void restore(String property, String value) {
    if (value == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, value);
    }
  }

  @Test
  void theStartUpTimeItLogs_isThisProcessesAge_toWithinATick() {
    long logged = Main.sinceProcessStart();
    long jvmUptime = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    // The process is a little older than the JVM's own clock (exec and VM set-up come first); the
    // boot time behind ProcessHandle's start instant is whole seconds, which was up to 1 s off.
    assertThat(logged).isBetween(jvmUptime - 30, jvmUptime + 400);
  }

  @Test
  void parse_eachSettingFromItsStrongestSource_flagThenEnvThenFileThenDefault() throws Exception {
    Path file = configFile(
        "# a comment",
        "port = 1111",
        "data-dir = /from/file",
        "store = memory",
        "issuer = file-issuer");
    Map<String, String> env = Map.of(
        "TOKEN_AUTHORITY_PORT", "2222",
        "TOKEN_AUTHORITY_DATA_DIR", "/from/env");

    Main main = Main.parse(new String[] {"--config", file.toString(), "--port", "3333"}, env);

    assertThat(main.port).as("flag over env and file").isEqualTo(3333);
    assertThat(main.dataDir).as("env over file").isEqualTo(Path.of("/from/env"));
    assertThat(main.store).as("file over default").isEqualTo("memory");
    assertThat(main.issuer).isEqualTo("file-issuer");
    assertThat(main.apiKeyPrefix).as("built-in default").isEqualTo("sk_");
    assertThat(main.shutdownGrace).isEqualTo(Duration.ofSeconds(20));
    assertThat(main.metricsPort).as("off unless set").isNull();
    assertThat(main.auditLog).isNull();
    assertThat(main.nativeSigning).as("on unless turned off").isTrue();
  }

  @Test
  void parse_configFileFromTheEnvironment_andEmptyVariablesCountAsUnset() throws Exception {
    Path file = configFile("shutdown-grace = 7s", "metrics-port = 9464", "audit-log = -");

    Main main = Main.parse(new String[0], Map.of(
        "TOKEN_AUTHORITY_CONFIG", file.toString(),
        "TOKEN_AUTHORITY_SHUTDOWN_GRACE", ""));

    assertThat(main.shutdownGrace).isEqualTo(Duration.ofSeconds(7));
    assertThat(main.metricsPort).isEqualTo(9464);
    assertThat(main.auditLog).isEqualTo("-");
    assertThat(Main.parse(new String[] {"--native-signing", "OFF"}, Map.of()).nativeSigning).isFalse();
    assertThat(Main.parse(new String[0], Map.of("TOKEN_AUTHORITY_NATIVE_SIGNING", "off")).nativeSigning).isFalse();
  }

  @Test
  void help_listsEverySettingWithItsFlagEnvironmentVariableAndDefault() {
    Run run = run(Map.of("TOKEN_AUTHORITY_PORT", "4444"), "--help");

    assertThat(run.exit()).isZero();
    CommandLine cl = new CommandLine(new Main());
    List<String> lines = run.out().lines().toList();
    for (OptionSpec option : cl.getCommandSpec().options()) {
      if (option.usageHelp() || option.versionHelp()) {
        continue;
      }
      String name = option.longestName();
      String env = "TOKEN_AUTHORITY_" + name.substring(2).toUpperCase().replace('-', '_');
      String head = lines.stream().filter(l -> l.startsWith("  " + name + " ")).findFirst().orElse("");
      assertThat(head).as("the --help line of %s\n%s", name, run.out()).contains(env);
      assertThat(head).contains("default " + (option.defaultValue() == null ? "(not set)" : option.defaultValue()));
    }
    // The built-in default, not what this environment would give.
    assertThat(run.out()).contains("TOKEN_AUTHORITY_PORT, file key port, default 50051");
    assertThat(run.out()).contains("TOKEN_AUTHORITY_ADMIN_KEY").contains("TOKEN_AUTHORITY_STORE_PASSWORD");
  }

  @Test
  void badFlagValues_stopWithOneLineNamingTheFlag() {
    assertThat(refused(run(Map.of(), "--port", "abc"))).isEqualTo("token-authority: --port: 'abc' is not a port number (0-65535)");
    assertThat(refused(run(Map.of(), "--port", "70000"))).contains("--port: '70000'");
    assertThat(refused(run(Map.of(), "--metrics-port", "-1"))).contains("--metrics-port: '-1'");
    assertThat(refused(run(Map.of(), "--shutdown-grace", "5"))).contains("--shutdown-grace: '5' is not a duration");
    assertThat(refused(run(Map.of(), "--executor-threads", "many"))).contains("--executor-threads: 'many' is not a whole number");
    assertThat(refused(run(Map.of(), "--executor-threads", "-2"))).contains("--executor-threads:");
    assertThat(refused(run(Map.of(), "--executor-threads", "100000"))).contains("--executor-threads: must be -1, 0 or a number of threads up to 32767");
    assertThat(refused(run(Map.of(), "--data-dir", ""))).contains("--data-dir: must not be empty");
    assertThat(refused(run(Map.of(), "--store", "bogus"))).contains("--store: must be sqlite, memory or a jdbc:postgresql:// URL, not 'bogus'");
    assertThat(refused(run(Map.of(), "--api-key-prefix", "SK-"))).contains("--api-key-prefix: 'SK-'");
    assertThat(refused(run(Map.of(), "--prot", "1"))).contains("unknown option").contains("--prot");
    assertThat(refused(run(Map.of(), "--native-signing", "maybe"))).isEqualTo("token-authority: --native-signing: 'maybe' is not on or off");
    assertThat(refused(run(Map.of(), "--port", "9000", "--metrics-port", "9000"))).contains("--metrics-port: must differ from --port");
  }

  @Test
  void aFileProblemAtStart_isNamed_notJustItsPath() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");

    assertThat(refused(run(Map.of(), "--data-dir", file.toString(), "--port", "0", "--http-port", "off")))
        .endsWith("a file of that name is in the way of a directory");
    assertThat(refused(run(Map.of(), "--data-dir", file.resolve("sub").toString(), "--port", "0", "--http-port", "off")))
        .endsWith("Not a directory");
    assertThat(refused(run(Map.of(), "--data-dir", dir.resolve("d").toString(), "--audit-log",
        dir.resolve("no/such/dir/audit.log").toString(), "--port", "0", "--http-port", "off")))
        .endsWith("no such file or directory");
  }

  @Test
  void adminKeyThatCouldNeverAuthenticate_stopsTheStartBeforeAStoreIsCreated() {
    Path data = dir.resolve("data");
    String line = refused(run(Map.of("TOKEN_AUTHORITY_ADMIN_KEY", "short"), "--data-dir", data.toString(), "--port", "0"));

    assertThat(line).contains("TOKEN_AUTHORITY_ADMIN_KEY must have 32");
    assertThat(data.resolve(dev.tokenauthority.server.store.sqlite.SqliteStores.FILE_NAME)).doesNotExist();
  }

  @Test
  void httpPort_defaultsTo8080_takesOffOrZeroFromFlagOrEnvironment_andRefusesTheGrpcPort() {
    assertThat(Main.parse(new String[0], Map.of()).httpPort).isEqualTo(8080);
    assertThat(Main.parse(new String[] {"--http-port", "off"}, Map.of()).httpPort).isEqualTo(OptionConverters.HTTP_OFF);
    assertThat(Main.parse(new String[0], Map.of("TOKEN_AUTHORITY_HTTP_PORT", "0")).httpPort).isZero();
    assertThat(refused(run(Map.of(), "--http-port", "web")))
        .isEqualTo("token-authority: --http-port: 'web' is not a port number (0-65535) or off");
    assertThat(refused(run(Map.of(), "--port", "9000", "--http-port", "9000"))).contains("--http-port: must differ from --port");
    assertThat(refused(run(Map.of(), "--http-port", "9001", "--metrics-port", "9001"))).contains("--metrics-port: must differ from --http-port");
  }

  @Test
  void badValuesFromEnvironmentOrFile_nameWhereTheyCameFrom() throws Exception {
    assertThat(refused(run(Map.of("TOKEN_AUTHORITY_PORT", "abc"))))
        .isEqualTo("token-authority: --port (TOKEN_AUTHORITY_PORT): 'abc' is not a port number (0-65535)");
    Path file = configFile("purge-interval = often");
    assertThat(refused(run(Map.of(), "--config", file.toString())))
        .startsWith("token-authority: --purge-interval (purge-interval in " + file + "): 'often'");
    // The flag wins, so a bad variable under it does not matter.
    Main main = Main.parse(new String[] {"--port", "5555"}, Map.of("TOKEN_AUTHORITY_PORT", "abc"));
    assertThat(main.port).isEqualTo(5555);
  }

  @Test
  void badConfigFile_stopsWithOneLineNamingIt() throws Exception {
    Path typo = configFile("prot = 50051");
    assertThat(refused(run(Map.of(), "--config", typo.toString())))
        .contains("--config: " + typo + " has an unknown setting 'prot'");
    assertThat(refused(run(Map.of(), "--config", dir.resolve("missing.properties").toString())))
        .contains("--config: cannot read").contains("no such file");
    assertThat(refused(run(Map.of("TOKEN_AUTHORITY_CONFIG", dir.resolve("missing.properties").toString()))))
        .contains("--config:");
  }

  @Test
  void badTlsSettings_stopWithOneLineNamingTheFlag() {
    assertThat(refused(run(Map.of(), "--tls-key", "key.pem"))).contains("--tls-key: needs --tls-cert too");
    assertThat(refused(run(Map.of(), "--tls-cert", "cert.pem"))).contains("--tls-cert: needs --tls-key too");
    assertThat(refused(run(Map.of(), "--tls-client-ca", "ca.pem"))).contains("--tls-client-ca: needs --tls-cert");
    assertThat(refused(run(Map.of(), "--tls-cert", dir.resolve("missing.pem").toString(), "--tls-key", "k.pem")))
        .contains("--tls-cert: cannot read").contains("no such file");
  }

  @Test
  void metricsPortTaken_orAuditLogUnwritable_stopWithOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      assertThat(refused(run(Map.of(), "--store", "memory", "--metrics-port", String.valueOf(taken.getLocalPort()))))
          .contains("--metrics-port: cannot listen on port " + taken.getLocalPort());
    }
    assertThat(refused(run(Map.of(), "--store", "memory", "--audit-log", dir.resolve("no/such/dir/audit.log").toString())))
        .contains("--audit-log: cannot open");
  }
}
