package dev.tokenauthority.server.rpc;

import dev.tokenauthority.server.apikey.Scopes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one description of every RPC the authority serves. Authentication, audit and rate-limit
 * headers read it, on every transport; a method missing from it is refused. A new transport or
 * service adds its methods here, as Envoy's {@code envoy.service.auth.v3.Authorization/Check} is.
 */
public final class MethodTable {
  public static final String TOKEN_AUTHORITY = "tokenauthority.v1.TokenAuthority";
  public static final String TENANT_ADMIN = "tokenauthority.v1.TenantAdmin";
  /** Envoy's external authorization, served on the same port. */
  public static final String EXT_AUTHZ_CHECK = "envoy.service.auth.v3.Authorization/Check";

  /** Revoke's rule: a key needs keys:write, a session (by id or token) sessions:mint. */
  public static final Access.ByTarget REVOKE_ACCESS =
      new Access.ByTarget(
          Map.of("api_key_id", Scopes.KEYS_WRITE, "session_id", Scopes.SESSIONS_MINT, "token", Scopes.SESSIONS_MINT));

  private static final Access OPEN = new Access.Open();
  private static final Access ANY_KEY = new Access.AnyKey();
  private static final Access ADMIN = new Access.Scope(Scopes.ADMIN);

  private static final Map<String, RpcMethod> METHODS =
      index(
          List.of(
              // tenant(method, access, changesState, rateLimitHeaders)
              tenant("MintSession", new Access.Scope(Scopes.SESSIONS_MINT), true, true),
              tenant("Redeem", new Access.Scope(Scopes.SESSIONS_REDEEM), true, false),
              tenant("Introspect", new Access.Scope(Scopes.SESSIONS_REDEEM), false, false),
              tenant("CreateApiKey", new Access.Scope(Scopes.KEYS_WRITE), true, false),
              tenant("ListApiKeys", new Access.Scope(Scopes.KEYS_READ), false, false),
              tenant("Revoke", REVOKE_ACCESS, true, false),
              tenant("GetJwks", ANY_KEY, false, false),
              admin("CreateTenant", true),
              admin("GetTenant", false),
              admin("UpdateTenant", true),
              admin("ListTenants", false),
              admin("RotateSigningKey", true),
              // Envoy's ext_authz, Redeem or Introspect for the service behind a sidecar. Whether
              // it changes state depends on the route's mode: the audit asks the Check itself
              // (ExtAuthzService.consumesUse).
              // The tenant's status is not checked here: Redeem and Introspect check the session's
              // tenant, and Envoy must get their refusal (a cancelled subscription included) as a
              // denied response with its HTTP status, not as a failed Check.
              new RpcMethod(EXT_AUTHZ_CHECK, new Access.Scope(Scopes.SESSIONS_REDEEM), false, false, false),
              open("grpc.health.v1.Health/Check"),
              open("grpc.health.v1.Health/Watch"),
              open("grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
              open("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")));

  private MethodTable() {}

  /** The description of the RPC named {@code fullName} ({@code package.Service/Method}), if it is served. */
  public static Optional<RpcMethod> find(String fullName) {
    return Optional.ofNullable(METHODS.get(fullName));
  }

  /** Every RPC, in the order above. */
  public static List<RpcMethod> all() {
    return List.copyOf(METHODS.values());
  }

  private static RpcMethod tenant(String method, Access access, boolean changesState, boolean rateLimitHeaders) {
    return new RpcMethod(TOKEN_AUTHORITY + "/" + method, access, changesState, rateLimitHeaders, true);
  }

  private static RpcMethod admin(String method, boolean changesState) {
    return new RpcMethod(TENANT_ADMIN + "/" + method, ADMIN, changesState, false, false);
  }

  private static RpcMethod open(String fullName) {
    return new RpcMethod(fullName, OPEN, false, false, false);
  }

  private static Map<String, RpcMethod> index(List<RpcMethod> methods) {
    Map<String, RpcMethod> byName = new LinkedHashMap<>();
    for (RpcMethod m : methods) {
      if (byName.put(m.fullName(), m) != null) {
        throw new IllegalStateException("two entries for " + m.fullName());
      }
    }
    return byName;
  }
}
