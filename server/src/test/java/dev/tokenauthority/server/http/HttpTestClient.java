package dev.tokenauthority.server.http;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;

/** A JSON client of the HTTP port for tests: one call, its status, headers and parsed body. */
public final class HttpTestClient {
  /** One answer. {@code json} is null when the body is not JSON. */
  public record Reply(int status, java.net.http.HttpHeaders headers, String body, HttpClient.Version version) {
    public JsonObject json() {
      JsonElement e = JsonParser.parseString(body);
      return e.getAsJsonObject();
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** The envelope's error code. */
    public String code() {
      return json().getAsJsonObject("error").get("code").getAsString();
    }

    public String field(String name) {
      return json().get(name).getAsString();
    }
  }

  private final HttpClient client;
  private final String base;

  public HttpTestClient(String base) {
    this(base, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build());
  }

  public HttpTestClient(String base, HttpClient client) {
    this.base = base;
    this.client = client;
  }

  public static HttpTestClient local(int port) {
    return new HttpTestClient("http://127.0.0.1:" + port);
  }

  public Reply get(String path, String secret) {
    return send("GET", path, secret, null);
  }

  public Reply post(String path, String secret, String json) {
    return send("POST", path, secret, json);
  }

  public Reply send(String method, String path, String secret, String json) {
    return send(method, path, secret, json, java.util.Map.of());
  }

  /** A call with extra request headers. */
  public Reply send(String method, String path, String secret, String json, java.util.Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
    headers.forEach(b::header);
    if (secret != null) {
      b.header("Authorization", "Bearer " + secret);
    }
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? BodyPublishers.noBody() : BodyPublishers.ofString(json));
    try {
      HttpResponse<String> r = client.send(b.build(), BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers(), r.body(), r.version());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Sends, over HTTP/1.1 on {@code socket}, a mint whose body stops after {@code sentChars}
   * characters: a call that stays in flight until the rest comes (or never does).
   */
  public static void startMintWithPartBody(java.net.Socket socket, String secret, String body, int sentChars)
      throws IOException {
    java.io.OutputStream out = socket.getOutputStream();
    out.write(("POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + secret
        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
        + body.substring(0, sentChars)).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    out.flush();
  }
}
