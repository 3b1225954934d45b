package dev.tokenauthority.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Sends an API key as {@code authorization: Bearer <secret>} on every call. The secret is
 * never part of {@link #toString()}, nor of the exception a malformed one gets. Whitespace
 * around it (the line break of a secret read from a file) is dropped.
 */
public final class ApiKeyCredentials extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String header;

  /**
   * @throws IllegalArgumentException when the key is missing, or holds a character a header
   *     cannot carry (a line break inside it, a control or non-ASCII character): grpc would log
   *     the whole header, key included, and send none
   */
  public ApiKeyCredentials(String apiKey) {
    if (apiKey == null || apiKey.isBlank()) {
      throw new IllegalArgumentException("an API key is required");
    }
    String key = apiKey.strip();
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new IllegalArgumentException(
            "the API key has a character a header cannot carry at position " + (i + 1) + " (a line break, a control or non-ASCII"
                + " character); API keys are printable ASCII");
      }
    }
    this.header = "Bearer " + key;
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
