package dev.tokenauthority.client;

import dev.tokenauthority.v1.ListTenantsResponse;
import java.util.List;
import java.util.Optional;

/** One page of tenants, ordered by id, and where the next page starts. */
public final class TenantPage {
  private final ListTenantsResponse proto;

  TenantPage(ListTenantsResponse proto) {
    this.proto = proto;
  }

  public List<TenantInfo> tenants() {
    return proto.getTenantsList().stream().map(TenantInfo::new).toList();
  }

  /** The page token of the next page; empty on the last page. */
  public Optional<String> nextPageToken() {
    return RedeemedSession.nonEmpty(proto.getNextPageToken());
  }

  /** The response as it came over the wire, e.g. to print it as JSON. */
  public ListTenantsResponse toProto() {
    return proto;
  }
}
