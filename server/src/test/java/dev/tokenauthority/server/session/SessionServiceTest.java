package dev.tokenauthority.server.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.apikey.ApiKeyService;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.FieldViolation;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.TestClock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The mint rules and a session's life, through the domain service alone (no transport). */
class SessionServiceTest {
  private final TestClock clock = new TestClock();
  private final Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), clock);
  private final SessionService sessions = authority.sessions();
  /** A stored key: a redeem checks that the key that minted is not revoked. */
  private final Caller minter = storedKey(List.of("sessions:mint", "sessions:redeem", "chat:write"), List.of("https://app.example"));

  private Caller storedKey(List<String> scopes, List<String> origins) {
    ApiKeyService keys = authority.apiKeys();
    Caller admin = keys.authenticate(authority.ensureAdminKey(Optional.empty()).orElseThrow());
    ApiKeyService.CreatedKey created = keys.create(admin, new ApiKeyService.NewKey("", "minter", null, scopes, origins));
    return keys.authenticate(created.secret());
  }

  private static SessionService.MintRequest request(String user) {
    return new SessionService.MintRequest(user, "", "", 0, 0, List.of(), "", new byte[0], 0, false, "");
  }

  private static Req with(String user) {
    return new Req(user);
  }

  /** A mint request with the fields a test sets; the rest not given. */
  private static final class Req {
    private final String user;
    private long ttl;
    private int maxUses;
    private List<String> scopes = List.of();
    private String origin = "";
    private byte[] context = new byte[0];
    private int contextDepth;
    private String browserOrigin = "";

    Req(String user) {
      this.user = user;
    }

    Req ttl(long seconds) {
      ttl = seconds;
      return this;
    }

    Req maxUses(int n) {
      maxUses = n;
      return this;
    }

    Req scopes(String... s) {
      scopes = List.of(s);
      return this;
    }

    Req origin(String o) {
      origin = o;
      return this;
    }

    Req context(byte[] c) {
      context = c;
      contextDepth = c.length == 0 ? 0 : 1;
      return this;
    }

    Req contextDepth(int depth) {
      contextDepth = depth;
      return this;
    }

    Req browserOrigin(String o) {
      browserOrigin = o;
      return this;
    }

    SessionService.MintRequest build() {
      return new SessionService.MintRequest(user, "", "", ttl, maxUses, scopes, origin, context, contextDepth, false, browserOrigin);
    }
  }

  @Test
  void mint_defaults_areTheTenantsTtlAndOneUse() {
    SessionService.Minted minted = sessions.mint(minter, request("u1"));

    assertThat(Duration.between(minted.session().issueTime(), minted.session().expireTime()))
        .isEqualTo(Duration.ofSeconds(300));
    assertThat(minted.session().maxUses()).isEqualTo(1);
  }

  @Test
  void mint_ttlAboveTheTenantsMaximum_isInvalidTtl_andEveryBadFieldIsListed() {
    AuthorityException e = refusal(with("").ttl(3601).maxUses(1001).build());

    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_TTL);
    assertThat(e.violations()).extracting(FieldViolation::field)
        .containsExactly("ttl_seconds", "external_user_id", "max_uses");
  }

  @Test
  void mint_maxUsesAboveTheLimit_isInvalidRequest() {
    AuthorityException e = refusal(with("u1").maxUses(MintRules.MAX_USES + 1).build());

    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_REQUEST);
    assertThat(e.violations()).extracting(FieldViolation::field).containsExactly("max_uses");
  }

  @Test
  void mint_contextOverTheLimit_isInvalidRequest() {
    AuthorityException e = refusal(with("u1").context(new byte[MintRules.MAX_CONTEXT_BYTES + 1]).build());

    assertThat(e.violations()).extracting(FieldViolation::field).containsExactly("context");
  }

  @Test
  void mint_contextNestedPastTheDepthLimit_isInvalidRequestOnContext_alongsideOtherBadFields() {
    AuthorityException e = refusal(
        with("u1").context(new byte[] {1}).contextDepth(MintRules.MAX_CONTEXT_DEPTH + 1).maxUses(MintRules.MAX_USES + 1).build());

    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_REQUEST);
    assertThat(e.violations()).extracting(FieldViolation::field).containsExactlyInAnyOrder("context", "max_uses");
    assertThat(e.violations()).filteredOn(v -> v.field().equals("context")).singleElement()
        .extracting(FieldViolation::description).asString().contains("32 levels");
  }

  @Test
  void mint_contextAtTheLimit_mints() {
    assertThat(sessions.mint(minter, with("u1").context(new byte[MintRules.MAX_CONTEXT_BYTES]).build()).token()).isNotEmpty();
  }

  @Test
  void mint_badScopeSyntax_namesTheScopeByIndex() {
    AuthorityException e = refusal(with("u1").scopes("chat:write", "Bad Scope").build());

    assertThat(e.violations()).extracting(FieldViolation::field).containsExactly("scopes[1]");
  }

  @Test
  void mint_scopeTheKeyLacks_isScopeNotGranted() {
    assertThat(refusal(with("u1").scopes("billing:write").build()).reason()).isEqualTo(ErrorReason.SCOPE_NOT_GRANTED);
  }

  @Test
  void mint_scopesOfTheKey_areDeduplicatedOnTheSession() {
    Session s = sessions.mint(minter, with("u1").scopes("chat:write", "chat:write").build()).session();

    assertThat(s.scopes()).containsExactly("chat:write");
  }

  @Test
  void mint_originTheKeyAllows_isBoundNormalised() {
    Session s = sessions.mint(minter, with("u1").origin("HTTPS://App.Example:443").build()).session();

    assertThat(s.origin()).isEqualTo("https://app.example");
  }

  @Test
  void mint_originTheKeyDoesNotAllow_isOriginNotAllowed() {
    assertThat(refusal(with("u1").origin("https://evil.example").build()).reason()).isEqualTo(ErrorReason.ORIGIN_NOT_ALLOWED);
  }

  @Test
  void mint_originWithAPath_isInvalidRequest() {
    assertThat(refusal(with("u1").origin("https://app.example/x").build()).violations())
        .extracting(FieldViolation::field).containsExactly("origin");
  }

  @Test
  void mint_fromABrowserAtAnOriginTheKeyDoesNotAllow_isOriginNotAllowed() {
    assertThat(refusal(with("u1").browserOrigin("https://evil.example").build()).reason())
        .isEqualTo(ErrorReason.ORIGIN_NOT_ALLOWED);
    assertThat(sessions.mint(minter, with("u1").browserOrigin("https://app.example").build()).token()).isNotEmpty();
  }

  @Test
  void redeem_secondUse_isAlreadyUsed() {
    String token = sessions.mint(minter, request("u1")).token();
    sessions.redeem(minter, token, "", "");

    assertThat(catchThrowableOfType(() -> sessions.redeem(minter, token, "", ""), AuthorityException.class).reason())
        .isEqualTo(ErrorReason.TOKEN_ALREADY_USED);
  }

  @Test
  void redeem_afterTheTtl_isExpired() {
    String token = sessions.mint(minter, with("u1").ttl(60).build()).token();
    clock.advanceSeconds(61);

    assertThat(catchThrowableOfType(() -> sessions.redeem(minter, token, "", ""), AuthorityException.class).reason())
        .isEqualTo(ErrorReason.TOKEN_EXPIRED);
  }

  @Test
  void revokeById_anotherTenantsSession_isNotFound() {
    Session s = sessions.mint(minter, request("u1")).session();
    Caller stranger = new Caller("key_other", "other", List.of("sessions:mint"), List.of(), null);

    assertThat(catchThrowableOfType(() -> sessions.revokeById(stranger, s.id()), AuthorityException.class).reason())
        .isEqualTo(ErrorReason.NOT_FOUND);
    assertThat(sessions.revokeById(minter, s.id())).isEqualTo(clock.instant());
  }

  private AuthorityException refusal(SessionService.MintRequest request) {
    return catchThrowableOfType(() -> sessions.mint(minter, request), AuthorityException.class);
  }
}
