package dev.tokenauthority.client;

import dev.tokenauthority.v1.RotateSigningKeyResponse;
import java.time.Instant;

/** The signing key that a rotation made active; the previous key keeps verifying until its tokens expire. */
public final class SigningKeyRotation {
  private final RotateSigningKeyResponse proto;

  SigningKeyRotation(RotateSigningKeyResponse proto) {
    this.proto = proto;
  }

  /** The new key's id, the {@code kid} of every token signed from now on. */
  public String kid() {
    return proto.getKid();
  }

  public Instant createTime() {
    return ProtoTime.instant(proto.getCreateTime());
  }

  /** The response as it came over the wire, e.g. to print it as JSON. */
  public RotateSigningKeyResponse toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return "SigningKeyRotation[kid=" + kid() + ", createTime=" + createTime() + "]";
  }
}
