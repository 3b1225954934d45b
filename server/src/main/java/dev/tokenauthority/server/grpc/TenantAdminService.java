package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.signing.SigningKeys;
import dev.tokenauthority.server.tenant.TenantService;
import dev.tokenauthority.v1.CreateTenantRequest;
import dev.tokenauthority.v1.CreateTenantResponse;
import dev.tokenauthority.v1.GetTenantRequest;
import dev.tokenauthority.v1.GetTenantResponse;
import dev.tokenauthority.v1.ListTenantsRequest;
import dev.tokenauthority.v1.ListTenantsResponse;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.RotateSigningKeyResponse;
import dev.tokenauthority.v1.TenantAdminGrpc;
import dev.tokenauthority.v1.UpdateTenantRequest;
import dev.tokenauthority.v1.UpdateTenantResponse;
import io.grpc.stub.StreamObserver;

/**
 * The {@code tokenauthority.v1.TenantAdmin} service, for admin keys only (the interceptor
 * checks the scope): tenants and their policy, and signing-key rotation.
 */
public final class TenantAdminService extends TenantAdminGrpc.TenantAdminImplBase {
  private final TenantService tenants;
  private final SigningKeys signingKeys;

  public TenantAdminService(TenantService tenants, SigningKeys signingKeys) {
    this.tenants = tenants;
    this.signingKeys = signingKeys;
  }

  @Override
  public void createTenant(CreateTenantRequest request, StreamObserver<CreateTenantResponse> observer) {
    Unary.respond(observer, () -> {
      requireTenant(request.hasTenant());
      return CreateTenantResponse.newBuilder()
          .setTenant(TenantMapper.toProto(
              tenants.create(TenantMapper.fromProto(request.getTenant()), TenantMapper.unnamedValues(request.getTenant()))))
          .build();
    });
  }

  @Override
  public void getTenant(GetTenantRequest request, StreamObserver<GetTenantResponse> observer) {
    Unary.respond(observer, () ->
        GetTenantResponse.newBuilder().setTenant(TenantMapper.toProto(tenants.get(request.getId()))).build());
  }

  @Override
  public void updateTenant(UpdateTenantRequest request, StreamObserver<UpdateTenantResponse> observer) {
    Unary.respond(observer, () -> {
      requireTenant(request.hasTenant());
      return UpdateTenantResponse.newBuilder()
          .setTenant(TenantMapper.toProto(
              tenants.update(TenantMapper.fromProto(request.getTenant()), request.getUpdateMask().getPathsList(),
                  TenantMapper.unnamedValues(request.getTenant()))))
          .build();
    });
  }

  @Override
  public void listTenants(ListTenantsRequest request, StreamObserver<ListTenantsResponse> observer) {
    Unary.respond(observer, () -> {
      TenantService.Page page = tenants.list(request.getPageSize(), request.getPageToken());
      ListTenantsResponse.Builder out = ListTenantsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.tenants().forEach(t -> out.addTenants(TenantMapper.toProto(t)));
      return out.build();
    });
  }

  @Override
  public void rotateSigningKey(RotateSigningKeyRequest request, StreamObserver<RotateSigningKeyResponse> observer) {
    Unary.respond(
        observer,
        () -> {
          SigningKey key = signingKeys.rotate();
          return RotateSigningKeyResponse.newBuilder()
              .setKid(key.kid())
              .setCreateTime(ProtoMapper.timestamp(key.createTime()))
              .build();
        });
  }

  private static void requireTenant(boolean present) {
    if (!present) {
      throw AuthorityException.invalidField("tenant", "is required");
    }
  }
}
