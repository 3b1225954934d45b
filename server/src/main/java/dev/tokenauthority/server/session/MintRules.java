package dev.tokenauthority.server.session;

import dev.tokenauthority.server.apikey.ApiKeySecrets;
import dev.tokenauthority.server.apikey.Caller;
import dev.tokenauthority.server.apikey.Origins;
import dev.tokenauthority.server.apikey.Scopes;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.Violations;
import dev.tokenauthority.server.session.SessionService.MintRequest;
import dev.tokenauthority.server.tenant.Tenant;
import dev.tokenauthority.server.tenant.TenantPolicy;
import java.util.List;

/**
 * Every rule a MintSession request must meet before anything is written, in one place, in the
 * order a caller learns of them: the tenant may mint; the fields are well formed (all bad fields
 * listed at once, INVALID_TTL when the TTL is among them); the key holds every scope it hands on
 * and allows the origin the token is bound to and the browser calling; the audience is one of
 * the tenant's modules. Limits and quotas, which need the store, come after.
 */
public final class MintRules {
  public static final int MAX_CONTEXT_BYTES = 8 * 1024;
  /**
   * Levels of objects and lists a context may nest, itself included. Each level of objects is
   * three protobuf messages (Struct, map entry, Value), so 32 levels inside a RedeemResponse stay
   * under the 100 that every protobuf parser allows by default: a context accepted at mint can
   * always be read back, over gRPC as over HTTP/JSON.
   */
  public static final int MAX_CONTEXT_DEPTH = 32;
  public static final int MAX_USES = 1000;

  /** What the request asks for once admitted: de-duplicated scopes, normalised origin, TTL and uses resolved. */
  public record Admitted(List<String> scopes, String origin, long ttlSeconds, int maxUses) {}

  private MintRules() {}

  /** Admits {@code request} from {@code caller} of {@code tenant}, or throws the first rule it breaks. */
  public static Admitted check(Caller caller, Tenant tenant, MintRequest request) {
    TenantPolicy.check(tenant, TenantPolicy.Operation.MINT);
    long maxTtl = TenantPolicy.maxTtlSeconds(tenant);
    long defaultTtl = TenantPolicy.defaultTtlSeconds(tenant);
    Violations v = new Violations();
    boolean badTtl = request.ttlSeconds() < 0 || request.ttlSeconds() > maxTtl;
    if (badTtl) {
      v.add("ttl_seconds",
          "must be between 1 and " + maxTtl + " seconds for this tenant (0 means its default, " + defaultTtl + ")");
    }
    v.text(request.externalUserId(), "external_user_id", 1, 256);
    v.notBlank(request.externalUserId(), "external_user_id");
    v.text(request.externalGroupId(), "external_group_id", 0, 256);
    v.text(request.audience(), "audience", 0, 128);
    // These travel as HTTP header values (Envoy's Check sets them for the upstream), and HTTP
    // trims a value's outer whitespace: " rep_8842" would reach the upstream as "rep_8842", another user.
    if (!Violations.isBlank(request.externalUserId())) {
      untrimmed(v, request.externalUserId(), "external_user_id");
    }
    untrimmed(v, request.externalGroupId(), "external_group_id");
    untrimmed(v, request.audience(), "audience");
    // The identity is written into the token, every audit line of its uses and the upstream's
    // headers: an API key secret pasted into it (a caller's bug) would be spread to all of them.
    noSecret(v, request.externalUserId(), "external_user_id");
    noSecret(v, request.externalGroupId(), "external_group_id");
    v.check(request.maxUses() >= 0 && request.maxUses() <= MAX_USES, "max_uses", "must be between 1 and " + MAX_USES + " (0 means 1)");
    List<String> scopes = Scopes.validate(request.scopes(), "scopes", v);
    String origin = Origins.validateOptional(request.origin(), "origin", v);
    v.check(request.context().length <= MAX_CONTEXT_BYTES, "context", "must be at most " + MAX_CONTEXT_BYTES + " bytes encoded");
    v.check(request.contextDepth() <= MAX_CONTEXT_DEPTH, "context",
        "must nest objects and lists at most " + MAX_CONTEXT_DEPTH + " levels deep");
    v.check(!request.contextNonFinite(), "context",
        "numbers must be finite: NaN and infinities (or a number past the double range, such as 1e400) have no JSON form");
    v.throwIfAny(badTtl ? ErrorReason.INVALID_TTL : ErrorReason.INVALID_REQUEST);
    caller.requireAll(scopes, "a session");
    if (!origin.isEmpty() && !caller.allowedOrigins().contains(origin)) {
      throw AuthorityException.of(ErrorReason.ORIGIN_NOT_ALLOWED, "this API key may not bind tokens to origin " + origin);
    }
    if (!request.browserOrigin().isEmpty() && !caller.allowsOrigin(request.browserOrigin())) {
      // Minting is server-to-server. A browser reaching it through a gRPC-Web proxy gets a
      // token only for an origin the key explicitly allows.
      throw AuthorityException.of(
          ErrorReason.ORIGIN_NOT_ALLOWED, "MintSession is a server-to-server call; this API key does not allow the caller's origin");
    }
    if (!TenantPolicy.allowsAudience(tenant, request.audience())) {
      throw AuthorityException.of(
          ErrorReason.MODULE_NOT_ENABLED,
          request.audience().isEmpty()
              ? "this tenant's tokens must name an audience, one of its enabled modules"
              : "the audience " + request.audience() + " is not one of this tenant's enabled modules");
    }
    long ttl = request.ttlSeconds() == 0 ? defaultTtl : request.ttlSeconds();
    int maxUses = request.maxUses() == 0 ? 1 : request.maxUses();
    // A token minted from a browser is bound to the calling origin (seed 003's browser channel)
    // unless the request names one: stolen from that page, it redeems nowhere else.
    String bound = origin.isEmpty() && !request.browserOrigin().isEmpty()
        ? Origins.normalise(request.browserOrigin()).orElse("")
        : origin;
    return new Admitted(scopes, bound, ttl, maxUses);
  }

  private static void noSecret(Violations v, String value, String field) {
    v.check(!ApiKeySecrets.containsSecret(value), field,
        "must not contain an API key secret (the identity is copied into tokens and audit lines): send the user's id");
  }

  private static void untrimmed(Violations v, String value, String field) {
    v.check(value.strip().length() == value.length(), field, "must not start or end with whitespace");
  }
}
