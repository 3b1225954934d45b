package dev.tokenauthority.bench;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.secret.SecretHash;
import dev.tokenauthority.server.session.Session;
import dev.tokenauthority.server.session.SessionService;
import dev.tokenauthority.server.signing.NativeEd25519;
import dev.tokenauthority.server.signing.SessionClaims;
import dev.tokenauthority.server.store.Store;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.store.sqlite.SqliteStores;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot primitives one by one, so that a regression in the load benchmark points at its
 * cause: signing and verifying a session token, authenticating an API key (hash and cache
 * lookup), minting through the domain, and the store's insert and single-use consume.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class PrimitivesBenchmark {
  @Param({"memory", "sqlite"})
  public String store;

  /** Whether AWS-LC signs (the server's default where it loads) or BouncyCastle; each fork is one or the other. */
  @Param({"true", "false"})
  public boolean nativeSigning;

  private Store backing;
  private Authority authority;
  private Caller caller;
  private String apiKey;
  private String token;
  private SessionClaims claims;
  private Session template;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (nativeSigning && !NativeEd25519.PROCESS.load()) {
      throw new IllegalStateException("the native Ed25519 does not load here; run with -p nativeSigning=false");
    }
    backing = store.equals("memory") ? new MemoryStore() : SqliteStores.open(Files.createTempDirectory("ta-jmh-"), Duration.ofSeconds(5));
    authority = new Authority(backing, Authority.Settings.defaults(), Clock.systemUTC());
    apiKey = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    caller = authority.apiKeys().authenticate(apiKey);
    SessionService.Minted minted = authority.sessions().mint(caller, mintRequest());
    token = minted.token();
    template = minted.session();
    Instant now = Instant.now();
    claims = new SessionClaims("ses_bench", "default", "user", "", now, now.plusSeconds(300));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backing.close();
  }

  private static SessionService.MintRequest mintRequest() {
    return new SessionService.MintRequest("user-1", "", "", 3600, 1, List.of(), "", new byte[0], 0, false, "");
  }

  @Benchmark
  public String sign() {
    return authority.codec().sign(claims);
  }

  @Benchmark
  public Object verify() {
    return authority.codec().verify(token);
  }

  @Benchmark
  public SecretHash hashToken() {
    return SecretHash.of(token);
  }

  @Benchmark
  public Caller authenticateApiKey() {
    return authority.apiKeys().authenticate(apiKey);
  }

  @Benchmark
  public Object mintThroughDomain() {
    return authority.sessions().mint(caller, mintRequest());
  }

  @Benchmark
  public Object storeInsertThenConsume() {
    Session s = new Session(
        dev.tokenauthority.server.secret.RandomStrings.id("ses_"), template.tenantId(), template.apiKeyId(), "u", "", "",
        List.of(), "", new byte[0], SecretHash.of(dev.tokenauthority.server.secret.RandomStrings.base62(40)),
        template.issueTime(), template.expireTime(), 1, 1, null);
    backing.sessions().insertSession(s).join();
    return backing.sessions().consumeSessionUse(s.id(), Instant.now(), null).join();
  }

  @Benchmark
  public Object storeFindSessionForToken() {
    return backing.sessions().findSessionForToken(template.id(), template.tokenHash()).join();
  }
}
