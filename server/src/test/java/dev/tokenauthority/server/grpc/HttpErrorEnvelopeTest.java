package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Status;
import dev.tokenauthority.server.error.StoreUnavailableException;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

/** The HTTP form of a refusal carries what the gRPC form does. */
class HttpErrorEnvelopeTest {
  private static HttpErrorEnvelope envelopeOf(RuntimeException e) {
    var grpc = ErrorMapper.toStatusException(e);
    Status status = StatusProto.fromStatusAndTrailers(grpc.getStatus(), grpc.getTrailers());
    return HttpErrorEnvelope.of(status);
  }

  @Test
  void aStoreFailureOfUnknownCommitOutcome_saysSoInAHeader_andAPlainOneDoesNot() {
    HttpErrorEnvelope unknown = envelopeOf(StoreUnavailableException.commitUnknown("the connection was lost while a write committed", null));
    HttpErrorEnvelope plain = envelopeOf(new StoreUnavailableException("the store is unavailable", null));

    assertThat(unknown.status()).isEqualTo(503);
    assertThat(unknown.headers()).containsEntry("x-commit-state", "unknown");
    assertThat(plain.status()).isEqualTo(503);
    assertThat(plain.headers()).doesNotContainKey("x-commit-state");
  }
}
