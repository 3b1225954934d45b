package dev.tokenauthority.client;

import dev.tokenauthority.v1.CreateApiKeyResponse;

/**
 * A new API key and its secret, which the authority shows this once and never again. Its
 * {@link #toString()} leaves the secret out.
 */
public final class CreatedApiKey {
  private final CreateApiKeyResponse proto;

  CreatedApiKey(CreateApiKeyResponse proto) {
    this.proto = proto;
  }

  public ApiKeyInfo apiKey() {
    return new ApiKeyInfo(proto.getApiKey());
  }

  /** The secret: store it safely now, it cannot be read again. */
  public String secret() {
    return proto.getSecret();
  }

  /** The response as it came over the wire (the secret included), e.g. to print it as JSON. */
  public CreateApiKeyResponse toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return "CreatedApiKey[" + apiKey() + ", secret=[redacted]]";
  }
}
