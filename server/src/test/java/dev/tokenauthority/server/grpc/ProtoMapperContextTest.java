package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.tokenauthority.server.session.MintRules;
import org.junit.jupiter.api.Test;

/**
 * How a session's context is measured at mint and read back at redeem: the depth MintRules
 * limits, and stored contexts deeper than protobuf's default parser allows (minted over
 * HTTP/JSON before that limit) still read.
 */
class ProtoMapperContextTest {
  private static Struct nestedObjects(int levels) {
    Struct inner = Struct.newBuilder().putFields("leaf", Value.newBuilder().setStringValue("x").build()).build();
    for (int i = 1; i < levels; i++) {
      inner = Struct.newBuilder().putFields("n", Value.newBuilder().setStructValue(inner).build()).build();
    }
    return inner;
  }

  private static Struct nestedLists(int lists) {
    Value inner = Value.newBuilder().setNumberValue(1).build();
    for (int i = 0; i < lists; i++) {
      inner = Value.newBuilder().setListValue(ListValue.newBuilder().addValues(inner)).build();
    }
    return Struct.newBuilder().putFields("l", inner).build();
  }

  @Test
  void contextDepth_countsObjectsAndLists_theContextItselfOne() {
    assertThat(ProtoMapper.ContextShape.of(false, Struct.getDefaultInstance()).depth()).isZero();
    assertThat(ProtoMapper.ContextShape.of(true, Struct.getDefaultInstance()).depth()).isEqualTo(1);
    assertThat(ProtoMapper.ContextShape.of(true, nestedObjects(5)).depth()).isEqualTo(5);
    assertThat(ProtoMapper.ContextShape.of(true, nestedLists(4)).depth()).isEqualTo(5);
    Struct wide = nestedObjects(3).toBuilder().putFields("deep", Value.newBuilder().setStructValue(nestedObjects(7)).build()).build();
    assertThat(ProtoMapper.ContextShape.of(true, wide).depth()).as("the deepest branch counts").isEqualTo(8);
    assertThat(ProtoMapper.ContextShape.of(true, nestedObjects(500)).depth()).isGreaterThan(MintRules.MAX_CONTEXT_DEPTH);
  }

  @Test
  void aContextAtTheLimit_parsesInsideAResponse_withProtobufsDefaultLimit() throws Exception {
    Struct atLimit = nestedObjects(MintRules.MAX_CONTEXT_DEPTH);
    byte[] response = dev.tokenauthority.v1.RedeemResponse.newBuilder().setContext(atLimit).build().toByteArray();
    assertThat(dev.tokenauthority.v1.RedeemResponse.parseFrom(response).getContext()).isEqualTo(atLimit);
    // Two levels more do not: the limit keeps one level of margin below what protobuf parses.
    byte[] over = dev.tokenauthority.v1.RedeemResponse.newBuilder().setContext(nestedObjects(MintRules.MAX_CONTEXT_DEPTH + 2))
        .build().toByteArray();
    assertThatThrownBy(() -> dev.tokenauthority.v1.RedeemResponse.parseFrom(over)).isInstanceOf(InvalidProtocolBufferException.class);
  }

  @Test
  void aStoredContextDeeperThanProtobufsDefaultLimit_stillDecodes() {
    Struct deep = nestedObjects(90);
    byte[] stored = deep.toByteArray();
    assertThatThrownBy(() -> Struct.parseFrom(stored)).as("the default limit").isInstanceOf(InvalidProtocolBufferException.class);
    assertThat(ProtoMapper.decodeContext(stored)).isEqualTo(deep);
  }
}
