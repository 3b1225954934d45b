package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.signing.SigningKey;
import dev.tokenauthority.server.signing.SigningKeys;
import dev.tokenauthority.v1.RotateSigningKeyRequest;
import dev.tokenauthority.v1.RotateSigningKeyResponse;
import dev.tokenauthority.v1.TenantAdminGrpc;
import io.grpc.stub.StreamObserver;

/**
 * The {@code tokenauthority.v1.TenantAdmin} service, for admin keys only (the interceptor
 * checks the scope): tenants and their policy, and signing-key rotation.
 */
public final class TenantAdminService extends TenantAdminGrpc.TenantAdminImplBase {
  private final SigningKeys signingKeys;

  public TenantAdminService(SigningKeys signingKeys) {
    this.signingKeys = signingKeys;
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
}
