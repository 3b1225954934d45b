package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docs/sidecar.md's Envoy bootstrap, read out of the page and parsed against Envoy's own
 * {@code Bootstrap} proto with every {@code typed_config} it uses: an unknown or misspelt field
 * fails here, as it would fail Envoy's start. Then it checks what the page promises of it.
 */
class SidecarDocTest {
  private static final Path DOC = Path.of("..", "docs", "sidecar.md");
  private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\\n(# envoy\\.yaml\\n.*?)```", Pattern.DOTALL);
  private static final JsonFormat.TypeRegistry ENVOY_TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(ExtAuthz.getDescriptor())
          .add(ExtAuthzPerRoute.getDescriptor())
          .add(Router.getDescriptor())
          .add(Cors.getDescriptor())
          .add(CorsPolicy.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .build();

  private static Bootstrap bootstrap;

  @BeforeAll
  static void parse() throws Exception {
    Matcher m = YAML_BLOCK.matcher(Files.readString(DOC));
    assertThat(m.find()).as("a ```yaml block starting '# envoy.yaml' in %s", DOC).isTrue();
    String yaml = m.group(1);
    assertThat(m.find()).as("only one envoy.yaml block").isFalse();
    Object tree = new Yaml().load(yaml);
    String json = new ObjectMapper().writeValueAsString(tree);
    Bootstrap.Builder b = Bootstrap.newBuilder();
    // The default parser refuses unknown fields: a misspelt one fails the test.
    JsonFormat.parser().usingTypeRegistry(ENVOY_TYPES).merge(json, b);
    bootstrap = b.build();
  }

  private static HttpConnectionManager connectionManager() throws Exception {
    return bootstrap.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0).getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  private static Map<String, ExtAuthzPerRoute> perRoute() throws Exception {
    Map<String, ExtAuthzPerRoute> routes = new HashMap<>();
    for (Route r : connectionManager().getRouteConfig().getVirtualHosts(0).getRoutesList()) {
      Any config = r.getTypedPerFilterConfigOrThrow("envoy.filters.http.ext_authz");
      String match = r.getMatch().getPrefix().isEmpty() ? r.getMatch().getPath() : r.getMatch().getPrefix();
      routes.put(match, config.unpack(ExtAuthzPerRoute.class));
    }
    return routes;
  }

  @Test
  void bootstrap_extAuthzFilter_callsTheAuthorityWithItsKey_failsClosed_beforeTheRouter() throws Exception {
    List<HttpFilter> filters = connectionManager().getHttpFiltersList();
    assertThat(filters).extracting(HttpFilter::getName)
        .containsExactly("envoy.filters.http.cors", "envoy.filters.http.ext_authz", "envoy.filters.http.router");
    ExtAuthz authz = filters.get(1).getTypedConfig().unpack(ExtAuthz.class);
    assertThat(authz.getFailureModeAllow()).isFalse();
    assertThat(authz.getStatusOnError().getCodeValue()).isEqualTo(503);
    assertThat(authz.getGrpcService().getEnvoyGrpc().getClusterName()).isEqualTo("token_authority");
    assertThat(authz.getGrpcService().getTimeout().getNanos()).isPositive();
    assertThat(authz.getGrpcService().getInitialMetadataList()).extracting(HeaderValue::getKey).containsExactly("authorization");
    assertThat(authz.getGrpcService().getInitialMetadata(0).getValue()).startsWith("Bearer ");
    filters.get(2).getTypedConfig().unpack(Router.class);
  }

  @Test
  void bootstrap_routes_oneVerifies_oneRedeemsForAnAudience_healthIsOpen() throws Exception {
    Map<String, ExtAuthzPerRoute> routes = perRoute();

    assertThat(routes.get("/api/").getCheckSettings().getContextExtensionsMap())
        .containsExactlyEntriesOf(Map.of(ExtAuthzService.MODE, ExtAuthzService.MODE_VERIFY));
    assertThat(routes.get("/roleplay/start").getCheckSettings().getContextExtensionsMap())
        .containsExactlyInAnyOrderEntriesOf(Map.of(ExtAuthzService.MODE, ExtAuthzService.MODE_REDEEM, ExtAuthzService.AUDIENCE, "roleplay"));
    assertThat(routes.get("/healthz").getDisabled()).isTrue();
  }

  @Test
  void bootstrap_authorityCluster_speaksHttp2() throws Exception {
    Cluster authority = bootstrap.getStaticResources().getClustersList().stream()
        .filter(c -> c.getName().equals("token_authority")).findFirst().orElseThrow();
    HttpProtocolOptions options = authority
        .getTypedExtensionProtocolOptionsOrThrow("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
        .unpack(HttpProtocolOptions.class);
    assertThat(options.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
  }

  @Test
  void parse_misspeltField_fails() {
    String json = "{\"static_resources\": {\"clusters\": [{\"name\": \"x\", \"conect_timeout\": \"1s\"}]}}";
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> JsonFormat.parser().usingTypeRegistry(ENVOY_TYPES).merge(json, Bootstrap.newBuilder()))
        .hasMessageContaining("conect_timeout");
  }
}
