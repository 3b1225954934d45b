package dev.tokenauthority.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import com.google.gson.JsonParser;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import java.time.Duration;

/**
 * The load generator of the HTTP/JSON workloads: Armeria's non-blocking client over HTTP/1.1
 * with keep-alive (a pool of connections, one call at a time each) or h2c (calls multiplexed
 * on one connection), so that the generator costs about what the gRPC one does.
 */
final class HttpLoad implements AutoCloseable {
  /** A call answered with something other than 200: its status and envelope code. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private final ClientFactory factory = ClientFactory.builder().idleTimeout(Duration.ofMinutes(5)).build();
  private final WebClient http1;
  private final WebClient h2c;

  HttpLoad(int port) {
    this.http1 = WebClient.builder("h1c://127.0.0.1:" + port).factory(factory).build();
    this.h2c = WebClient.builder("h2c://127.0.0.1:" + port).factory(factory).build();
  }

  WebClient http1() {
    return http1;
  }

  WebClient h2c() {
    return h2c;
  }

  static ListenableFuture<AggregatedHttpResponse> get(WebClient client, String path) {
    return settle(client.execute(RequestHeaders.of(HttpMethod.GET, path)));
  }

  static ListenableFuture<AggregatedHttpResponse> post(WebClient client, String path, String key, String json) {
    RequestHeaders headers = RequestHeaders.builder(HttpMethod.POST, path)
        .add("authorization", "Bearer " + key)
        .contentType(MediaType.JSON_UTF_8)
        .build();
    return settle(client.execute(HttpRequest.of(headers, HttpData.ofUtf8(json))));
  }

  /** The token of a MintSession answer. */
  static String token(AggregatedHttpResponse minted) {
    return JsonParser.parseString(minted.contentUtf8()).getAsJsonObject().get("token").getAsString();
  }

  private static ListenableFuture<AggregatedHttpResponse> settle(com.linecorp.armeria.common.HttpResponse response) {
    SettableFuture<AggregatedHttpResponse> f = SettableFuture.create();
    response.aggregate().whenComplete((r, e) -> {
      if (e != null) {
        f.setException(e);
      } else if (r.status().code() != 200) {
        String code = r.contentUtf8().replaceAll("(?s).*\"code\":\"([A-Z_]+)\".*", "$1");
        f.setException(new Refused("HTTP " + r.status().code() + " " + code));
      } else {
        f.set(r);
      }
    });
    return f;
  }

  @Override
  public void close() {
    factory.close();
  }
}
