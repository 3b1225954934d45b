package dev.tokenauthority.client;

import dev.tokenauthority.v1.ListApiKeysResponse;
import java.util.List;
import java.util.Optional;

/** One page of a tenant's API keys, oldest first, and where the next page starts. */
public final class ApiKeyPage {
  private final ListApiKeysResponse proto;

  ApiKeyPage(ListApiKeysResponse proto) {
    this.proto = proto;
  }

  public List<ApiKeyInfo> apiKeys() {
    return proto.getApiKeysList().stream().map(ApiKeyInfo::new).toList();
  }

  /** The page token of the next page; empty on the last page. */
  public Optional<String> nextPageToken() {
    return RedeemedSession.nonEmpty(proto.getNextPageToken());
  }

  /** The response as it came over the wire, e.g. to print it as JSON. */
  public ListApiKeysResponse toProto() {
    return proto;
  }
}
