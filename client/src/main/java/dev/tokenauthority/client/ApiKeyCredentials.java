package dev.tokenauthority.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Sends an API key as {@code authorization: Bearer <secret>} on every call. The secret is
 * never part of {@link #toString()}.
 */
public final class ApiKeyCredentials extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String header;

  public ApiKeyCredentials(String apiKey) {
    if (apiKey == null || apiKey.isBlank()) {
      throw new IllegalArgumentException("an API key is required");
    }
    this.header = "Bearer " + apiKey;
  }

  @Override
  public void applyRequestMetadata(RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    try {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, header);
      applier.apply(headers);
    } catch (RuntimeException e) {
      applier.fail(Status.UNAUTHENTICATED.withDescription("cannot attach the API key").withCause(e));
    }
  }

  @Override
  public String toString() {
    return "ApiKeyCredentials[redacted]";
  }
}
