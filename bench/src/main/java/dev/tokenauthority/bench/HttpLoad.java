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
import java.util.List;
import java.util.Locale;

/**
 * The load generator of the HTTP/JSON workloads: Armeria's non-blocking client over HTTP/1.1
 * with keep-alive (a pool of connections, one call at a time each) or h2c (calls multiplexed
 * on one connection), so that the generator costs about what the gRPC one does.
 *
 * <p>Armeria's client path is deep, and on a busy machine the generator's JIT needs many seconds
 * before it is compiled: cold, it measured /healthz at a tenth of what h2load got from the same
 * server (and it was the generator, not the server, that was slow: with C1-only compilation the
 * first second was already at h2load's rate). So {@link #warmUp} drives both protocols until
 * their rate stops rising before any HTTP phase is timed.
 */
final class HttpLoad implements AutoCloseable {
  /** A call answered with something other than 200: its status and envelope code. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private static final Duration MIN_WARM_UP = Duration.ofSeconds(15);

  private final ClientFactory factory = ClientFactory.builder().idleTimeout(Duration.ofMinutes(5)).build();
  private final WebClient http1;
  private final WebClient h2c;

  HttpLoad(int port) {
    this.http1 = WebClient.builder("h1c://127.0.0.1:" + port).factory(factory).build();
    this.h2c = WebClient.builder("h2c://127.0.0.1:" + port).factory(factory).build();
  }

  /**
   * Drives /healthz over HTTP/1.1 and h2c with {@code inFlight} calls in flight, in two-second
   * windows, for at least {@code MIN_WARM_UP} and then until three windows in a row are no more
   * than 5% above the best before them (the client's code is compiled), or {@code limit} has
   * passed. On a loaded machine a looser rule stopped while the rate was still rising.
   */
  void warmUp(int inFlight, Duration limit) throws InterruptedException {
    for (WebClient client : List.of(http1, h2c)) {
      long start = System.nanoTime();
      long deadline = start + limit.toNanos();
      double best = 0;
      int flat = 0;
      while ((flat < 3 || System.nanoTime() - start < MIN_WARM_UP.toNanos()) && System.nanoTime() < deadline) {
        ClosedLoop.Outcome o = ClosedLoop.run(inFlight, Duration.ofSeconds(2), () -> get(client, "/healthz"));
        double rate = o.ok() / o.seconds();
        flat = rate > best * 1.05 ? 0 : flat + 1;
        best = Math.max(best, rate);
      }
      System.out.printf(Locale.ROOT, "   warm-up %s client: %,.0f calls/s%n", client == http1 ? "HTTP/1.1" : "h2c", best);
    }
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
