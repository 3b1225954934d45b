package dev.tokenauthority.client.cli;

import dev.tokenauthority.client.TenantInfo;
import dev.tokenauthority.client.TenantPage;
import dev.tokenauthority.client.TenantParams;
import dev.tokenauthority.client.TokenAuthorityClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code tenants create|get|update|list}: tenants and their policy (admin key). */
@Command(
    name = "tenants",
    description = "Create, show, change and list tenants (needs an admin key).",
    subcommands = {
      TenantsCommand.CreateTenant.class,
      TenantsCommand.GetTenant.class,
      TenantsCommand.UpdateTenant.class,
      TenantsCommand.ListTenants.class
    })
final class TenantsCommand {
  private TenantsCommand() {}

  /** The policy options shared by create and update; only those given are sent. */
  static final class PolicyOptions {
    @Option(names = "--display-name", paramLabel = "NAME", description = "A name for people.")
    String displayName;

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        converter = Converters.StatusConverter.class,
        description = "ACTIVE, INACTIVE or SUSPENDED.")
    TenantInfo.Status status;

    @Option(
        names = "--subscription",
        paramLabel = "STATE",
        converter = Converters.SubscriptionConverter.class,
        description = "ACTIVE, PAST_DUE or CANCELLED.")
    TenantInfo.Subscription subscription;

    @Option(names = "--module", split = ",", paramLabel = "MODULE", description = "An allowed audience (repeatable). None: any.")
    List<String> modules;

    @Option(
        names = "--ttl-default",
        paramLabel = "DURATION",
        converter = Converters.DurationConverter.class,
        description = "Session TTL when a mint gives none (0: the deployment default).")
    Duration ttlDefault;

    @Option(
        names = "--ttl-max",
        paramLabel = "DURATION",
        converter = Converters.DurationConverter.class,
        description = "The longest TTL a mint may ask for (0: the deployment default).")
    Duration ttlMax;

    @Option(names = "--mint-rate-per-minute", paramLabel = "N", description = "Mints per API key per minute (0: no limit).")
    Integer mintRatePerMinute;

    @Option(names = "--mint-rate-per-user-per-hour", paramLabel = "N", description = "Mints per user per hour (0: no limit).")
    Integer mintRatePerUserPerHour;

    @Option(names = "--monthly-quota", paramLabel = "N", description = "Redemptions per calendar month (0: no limit).")
    Long monthlyQuota;

    TenantParams.Builder params() {
      TenantParams.Builder b = TenantParams.builder();
      if (displayName != null) {
        b.displayName(displayName);
      }
      if (status != null) {
        b.status(status);
      }
      if (subscription != null) {
        b.subscription(subscription);
      }
      if (modules != null) {
        b.enabledModules(modules);
      }
      if (ttlDefault != null) {
        b.sessionTtlDefault(ttlDefault);
      }
      if (ttlMax != null) {
        b.sessionTtlMax(ttlMax);
      }
      if (mintRatePerMinute != null) {
        b.mintRatePerMinute(mintRatePerMinute);
      }
      if (mintRatePerUserPerHour != null) {
        b.mintRatePerUserPerHour(mintRatePerUserPerHour);
      }
      if (monthlyQuota != null) {
        b.monthlySessionQuota(monthlyQuota);
      }
      return b;
    }
  }

  /** {@code tenants create ID}. */
  @Command(name = "create", description = "Create a tenant; unset status and subscription are ACTIVE.")
  static final class CreateTenant extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "Lowercase letters, digits and hyphens, 1-63 characters.")
    String id;

    @Mixin PolicyOptions policy;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      print(out, client.createTenant(id, policy.params().build()));
    }
  }

  /** {@code tenants get ID}. */
  @Command(name = "get", description = "Show a tenant and its policy.")
  static final class GetTenant extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "The tenant's id.")
    String id;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      print(out, client.getTenant(id));
    }
  }

  /** {@code tenants update ID}: changes only the options given. */
  @Command(name = "update", description = "Change a tenant: only the options given change.")
  static final class UpdateTenant extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "The tenant's id.")
    String id;

    @Mixin PolicyOptions policy;

    @Option(names = "--clear-modules", description = "Allow any audience again (empties the module list).")
    boolean clearModules;

    @Override
    void run(TokenAuthorityClient client, Output out) {
      if (clearModules && policy.modules != null) {
        throw new ParameterException(spec.commandLine(), "--clear-modules and --module contradict each other");
      }
      TenantParams.Builder params = policy.params();
      if (clearModules) {
        params.enabledModules(List.of());
      }
      TenantParams built = params.build();
      if (built.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "give at least one option to change");
      }
      print(out, client.updateTenant(id, built));
    }
  }

  /** {@code tenants list}. */
  @Command(name = "list", description = "List tenants, ordered by id.")
  static final class ListTenants extends ClientCommand {
    @Option(names = "--page-size", paramLabel = "N", description = "At most this many tenants (default 50; more than 1000 returns 1000).")
    int pageSize;

    @Option(names = "--page-token", paramLabel = "TOKEN", description = "Continue from a previous page.")
    String pageToken = "";

    @Override
    void run(TokenAuthorityClient client, Output out) {
      TenantPage page = client.listTenants(pageSize, pageToken);
      if (out.json()) {
        out.printJson(page.toProto());
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      for (TenantInfo t : page.tenants()) {
        rows.add(
            List.of(
                t.id(), Output.orDash(t.displayName()), t.status().name(), t.subscription().name(),
                Output.list(t.enabledModules())));
      }
      out.table(List.of("ID", "NAME", "STATUS", "SUBSCRIPTION", "MODULES"), rows);
      page.nextPageToken().ifPresent(t -> out.line("next page: --page-token " + t));
    }
  }

  static void print(Output out, TenantInfo t) {
    if (out.json()) {
      out.printJson(t.toProto());
      return;
    }
    out.fields()
        .add("id", t.id())
        .add("display_name", Output.orDash(t.displayName()))
        .add("status", t.status())
        .add("subscription", t.subscription())
        .add("modules", Output.list(t.enabledModules()))
        .add("ttl_default", seconds(t.sessionTtlDefault()))
        .add("ttl_max", seconds(t.sessionTtlMax()))
        .add("mint_rate_per_minute", limit(t.mintRatePerMinute()))
        .add("mint_rate_per_user_per_hour", limit(t.mintRatePerUserPerHour()))
        .add("monthly_quota", limit(t.monthlySessionQuota()))
        .add("created", t.createTime())
        .add("updated", t.updateTime())
        .print();
  }

  private static String seconds(Duration d) {
    return d.isZero() ? "default" : d.toSeconds() + " s";
  }

  private static String limit(long n) {
    return n == 0 ? "none" : Long.toString(n);
  }
}
