package dev.tokenauthority.server.tenant;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.Violations;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tenants and their policy, for admin keys (AIP-133/131/134/132): create, get, update the
 * fields a mask names, list by id. Every change is validated as a whole and invalidates this
 * replica's cached copy at once; other replicas see it within their cache time.
 */
public final class TenantService {
  private static final Logger log = LoggerFactory.getLogger(TenantService.class);

  /** An audience value: no whitespace (lists are stored space-separated), URLs allowed. */
  static final Pattern MODULE = Pattern.compile("[A-Za-z0-9._:/~+-]{1,128}");
  static final int MAX_MODULES = 64;
  static final int MAX_DISPLAY_NAME = 200;

  /** The fields UpdateTenant may change, by their proto names. */
  public static final Set<String> MUTABLE_FIELDS =
      Set.of(
          "display_name", "status", "subscription_status", "enabled_modules", "session_ttl_default_seconds",
          "session_ttl_max_seconds", "mint_rate_per_minute", "mint_rate_per_user_per_hour", "monthly_session_quota");
  private static final Set<String> IMMUTABLE_FIELDS = Set.of("id", "create_time", "update_time");
  /** Reads and writes of one update before it gives up on a tenant that keeps changing. */
  private static final int MAX_UPDATE_ATTEMPTS = 16;
  /** The values each enum field takes, for the messages that refuse another. */
  private static final Map<String, String> ENUM_VALUES =
      Map.of("status", "ACTIVE, INACTIVE or SUSPENDED", "subscription_status", "ACTIVE, PAST_DUE or CANCELLED");

  private final TenantDirectory directory;
  private final Clock clock;

  /** One page of tenants. */
  public record Page(List<Tenant> tenants, String nextPageToken) {}

  public TenantService(TenantDirectory directory, Clock clock) {
    this.directory = directory;
    this.clock = clock;
  }

  /**
   * Creates a tenant; a status or subscription of null means ACTIVE.
   *
   * @throws AuthorityException ALREADY_EXISTS when the id is taken
   */
  public Tenant create(Tenant requested) {
    return create(requested, Set.of());
  }

  /**
   * Creates a tenant, refusing the {@code unnamed} fields: given a value their enum does not
   * name (in {@code requested}, null).
   */
  public Tenant create(Tenant requested, Set<String> unnamed) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    Violations v = new Violations();
    unnamed.forEach(field -> v.add("tenant." + field, "is not a value of its enum: " + ENUM_VALUES.get(field)));
    v.check(Tenant.ID.matcher(requested.id()).matches(), "tenant.id",
        "must be 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit");
    v.check(!Tenant.RESERVED_IDS.contains(requested.id()), "tenant.id",
        "is reserved: " + String.join(", ", sorted(Tenant.RESERVED_IDS)) + " name tenants relative to the caller");
    Tenant tenant =
        new Tenant(
            requested.id(), requested.displayName(),
            requested.status() == null ? Tenant.Status.ACTIVE : requested.status(),
            requested.subscriptionStatus() == null ? Tenant.SubscriptionStatus.ACTIVE : requested.subscriptionStatus(),
            requested.enabledModules(), requested.sessionTtlDefaultSeconds(), requested.sessionTtlMaxSeconds(),
            requested.mintRatePerMinute(), requested.mintRatePerUserPerHour(), requested.monthlySessionQuota(), now, now);
    validatePolicy(tenant, v, true);
    if (!directory.store().insertTenant(tenant)) {
      throw AuthorityException.of(ErrorReason.ALREADY_EXISTS, "a tenant with id " + tenant.id() + " exists already");
    }
    directory.invalidate(tenant.id());
    log.info("tenant created id={}", tenant.id());
    return tenant;
  }

  /** The tenant, or NOT_FOUND. */
  public Tenant get(String id) {
    if (id.isEmpty()) {
      throw AuthorityException.invalidField("id", "is required");
    }
    return directory.store().findTenant(id)
        .orElseThrow(() -> AuthorityException.of(ErrorReason.NOT_FOUND, "no tenant with this id"));
  }

  /**
   * Changes the fields named by {@code paths} to their values in {@code changes}: {@code *}
   * means every mutable field; no path at all means every field set to a non-default value
   * (AIP-134). Status values of null mean "not given".
   */
  public Tenant update(Tenant changes, List<String> paths) {
    return update(changes, paths, Set.of());
  }

  /**
   * {@link #update(Tenant, List)} where the {@code unnamed} fields were given a value their enum
   * does not name (in {@code changes}, null): refused when the update sets them, as when the
   * mask names them or there is no mask; ignored outside the mask, as any field is.
   */
  public Tenant update(Tenant changes, List<String> paths, Set<String> unnamed) {
    Violations v = new Violations();
    v.check(!changes.id().isEmpty(), "tenant.id", "is required");
    Set<String> fields = new LinkedHashSet<>();
    if (paths.isEmpty()) {
      fields.addAll(populatedFields(changes));
      fields.addAll(unnamed);
    }
    for (String path : paths) {
      if (path.equals("*")) {
        fields.addAll(MUTABLE_FIELDS);
      } else if (IMMUTABLE_FIELDS.contains(path)) {
        v.add("update_mask", path + " cannot be changed");
      } else if (!MUTABLE_FIELDS.contains(path)) {
        v.add("update_mask", "no tenant field is called " + path + "; mutable: " + String.join(", ", sorted(MUTABLE_FIELDS)));
      } else {
        fields.add(path);
      }
    }
    if (fields.contains("status") && changes.status() == null) {
      v.add("tenant.status", "must be " + ENUM_VALUES.get("status"));
    }
    if (fields.contains("subscription_status") && changes.subscriptionStatus() == null) {
      v.add("tenant.subscription_status", "must be " + ENUM_VALUES.get("subscription_status"));
    }
    v.throwIfAny();
    // Read, merge, check and write again when another update landed in between: each update
    // changes only its fields, and a suspension is never undone by a concurrent rename. Each
    // retry means another update succeeded; the bound only keeps a broken store from spinning.
    for (int attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      Tenant current = get(changes.id());
      Tenant updated = merged(current, changes, fields);
      if (directory.store().updateTenant(current, updated)) {
        directory.invalidate(updated.id());
        log.info("tenant updated id={} fields={}", updated.id(), fields);
        return updated;
      }
      log.debug("tenant changed while being updated, merging again id={} attempt={}", current.id(), attempt);
    }
    throw AuthorityException.of(
        ErrorReason.STORE_UNAVAILABLE, "the tenant changed " + MAX_UPDATE_ATTEMPTS + " times while this update was made; try again");
  }

  /**
   * {@code current} with {@code fields} taken from {@code changes}, checked, and an update time
   * after {@code current}'s even within its millisecond (the store's check of a concurrent update).
   */
  private Tenant merged(Tenant current, Tenant changes, Set<String> fields) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    Instant after = current.updateTime().plusMillis(1);
    Tenant updated =
        new Tenant(
            current.id(),
            fields.contains("display_name") ? changes.displayName() : current.displayName(),
            fields.contains("status") ? changes.status() : current.status(),
            fields.contains("subscription_status") ? changes.subscriptionStatus() : current.subscriptionStatus(),
            fields.contains("enabled_modules") ? changes.enabledModules() : current.enabledModules(),
            fields.contains("session_ttl_default_seconds") ? changes.sessionTtlDefaultSeconds() : current.sessionTtlDefaultSeconds(),
            fields.contains("session_ttl_max_seconds") ? changes.sessionTtlMaxSeconds() : current.sessionTtlMaxSeconds(),
            fields.contains("mint_rate_per_minute") ? changes.mintRatePerMinute() : current.mintRatePerMinute(),
            fields.contains("mint_rate_per_user_per_hour") ? changes.mintRatePerUserPerHour() : current.mintRatePerUserPerHour(),
            fields.contains("monthly_session_quota") ? changes.monthlySessionQuota() : current.monthlySessionQuota(),
            current.createTime(),
            now.isBefore(after) ? after : now);
    // A stored name is checked only when this update sets it: a name an older build accepted
    // must not keep the operator from suspending the tenant.
    validatePolicy(updated, new Violations(), fields.contains("display_name"));
    return updated;
  }

  /** Lists tenants by id. */
  public Page list(int pageSize, String pageToken) {
    Violations v = new Violations();
    int size = v.pageSize(pageSize);
    String after = "";
    if (!pageToken.isEmpty()) {
      try {
        after = new String(Base64.getUrlDecoder().decode(pageToken), StandardCharsets.UTF_8);
        v.check(Tenant.ID.matcher(after).matches(), "page_token", "is not a page token of ListTenants");
      } catch (IllegalArgumentException e) {
        v.add("page_token", "is not a page token of ListTenants");
      }
    }
    v.throwIfAny();
    List<Tenant> page = directory.store().listTenants(after, size + 1);
    if (page.size() <= size) {
      return new Page(page, "");
    }
    List<Tenant> shown = page.subList(0, size);
    String last = shown.get(size - 1).id();
    return new Page(List.copyOf(shown), Base64.getUrlEncoder().withoutPadding().encodeToString(last.getBytes(StandardCharsets.UTF_8)));
  }

  private static void validatePolicy(Tenant t, Violations v, boolean checkName) {
    if (checkName) {
      v.text(t.displayName(), "tenant.display_name", 0, MAX_DISPLAY_NAME);
      v.notBlank(t.displayName(), "tenant.display_name");
    }
    v.check(t.enabledModules().size() <= MAX_MODULES, "tenant.enabled_modules", "at most " + MAX_MODULES + " modules");
    for (int i = 0; i < t.enabledModules().size(); i++) {
      v.check(MODULE.matcher(t.enabledModules().get(i)).matches(), "tenant.enabled_modules[" + i + "]",
          "a module is 1-128 letters, digits or . _ : / ~ + -");
    }
    v.check(t.mintRatePerMinute() >= 0, "tenant.mint_rate_per_minute", "must be 0 (no limit) or more");
    v.check(t.mintRatePerUserPerHour() >= 0, "tenant.mint_rate_per_user_per_hour", "must be 0 (no limit) or more");
    v.check(t.monthlySessionQuota() >= 0, "tenant.monthly_session_quota", "must be 0 (no limit) or more");
    long max = TenantPolicy.configuredMaxTtlSeconds(t);
    boolean badMax = t.sessionTtlMaxSeconds() < 0 || t.sessionTtlMaxSeconds() > TenantPolicy.MAX_TTL_SECONDS;
    v.check(!badMax, "tenant.session_ttl_max_seconds",
        "must be between 1 and " + TenantPolicy.MAX_TTL_SECONDS + " seconds (0 means " + TenantPolicy.DEFAULT_MAX_TTL_SECONDS + ")");
    boolean badDefault = t.sessionTtlDefaultSeconds() < 0 || (!badMax && t.sessionTtlDefaultSeconds() > max);
    v.check(!badDefault, "tenant.session_ttl_default_seconds",
        "must be between 1 and the maximum TTL, " + max + " seconds (0 means " + TenantPolicy.DEFAULT_TTL_SECONDS + ")");
    v.throwIfAny(badMax || badDefault ? ErrorReason.INVALID_TTL : ErrorReason.INVALID_REQUEST);
  }

  private static List<String> populatedFields(Tenant t) {
    List<String> out = new ArrayList<>();
    if (!t.displayName().isEmpty()) out.add("display_name");
    if (t.status() != null) out.add("status");
    if (t.subscriptionStatus() != null) out.add("subscription_status");
    if (!t.enabledModules().isEmpty()) out.add("enabled_modules");
    if (t.sessionTtlDefaultSeconds() != 0) out.add("session_ttl_default_seconds");
    if (t.sessionTtlMaxSeconds() != 0) out.add("session_ttl_max_seconds");
    if (t.mintRatePerMinute() != 0) out.add("mint_rate_per_minute");
    if (t.mintRatePerUserPerHour() != 0) out.add("mint_rate_per_user_per_hour");
    if (t.monthlySessionQuota() != 0) out.add("monthly_session_quota");
    return out;
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }
}
