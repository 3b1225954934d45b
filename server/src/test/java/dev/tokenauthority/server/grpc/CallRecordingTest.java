package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.metrics.Metrics;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.TokenAuthorityGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.micrometer.core.instrument.Timer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A call whose answer and cancellation cross (the service closes it OK as the client's deadline
 * passes) is one outcome, the same in the metrics and in the audit log, whichever comes first.
 */
class CallRecordingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MINT = TokenAuthorityGrpc.getMintSessionMethod().getBareMethodName();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final Metrics metrics = new Metrics();
  private AuditLog audit;

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void aMintCancelledBeforeItsAnswerIsClosed_isCancelledInTheMetricsAndTheAuditLog() throws Exception {
    MintCall call = startMint();
    call.answer();
    call.transportCancels();
    call.serviceCloses(Status.OK);

    assertThat(auditOutcome()).isEqualTo("cancelled CANCELLED");
    assertThat(mintTimerCount("CANCELLED")).isEqualTo(1);
    assertThat(mintTimerCount("OK")).isZero();
    assertThat(metrics.registry().get("token_authority.sessions.minted").counter().count()).isZero();
  }

  @Test
  void aMintClosedBeforeItsCancellationArrives_isOkInTheMetricsAndTheAuditLog() throws Exception {
    MintCall call = startMint();
    call.answer();
    call.serviceCloses(Status.OK);
    call.transportCancels();

    assertThat(auditOutcome()).isEqualTo("ok OK");
    assertThat(mintTimerCount("OK")).isEqualTo(1);
    assertThat(mintTimerCount("CANCELLED")).isZero();
    assertThat(metrics.registry().get("token_authority.sessions.minted").counter().count()).isEqualTo(1);
  }

  private MintCall startMint() throws Exception {
    audit = new AuditLog(out, true, 16);
    CallRecordingInterceptor recording = new CallRecordingInterceptor(metrics, audit, Clock.systemUTC());
    TransportMintCall transport = new TransportMintCall();
    AtomicReference<ServerCall<MintSessionRequest, MintSessionResponse>> seenByService = new AtomicReference<>();
    ServerCall.Listener<MintSessionRequest> listener =
        recording.interceptCall(transport, new Metadata(), (call, headers) -> {
          seenByService.set(call);
          return new ServerCall.Listener<>() {};
        });
    listener.onMessage(MintSessionRequest.newBuilder().setExternalUserId("rep_1").build());
    listener.onHalfClose();
    return new MintCall(listener, seenByService.get());
  }

  /** The one audit line, as "outcome code", once the log is closed. */
  private String auditOutcome() throws Exception {
    audit.close();
    String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(1);
    JsonNode line = JSON.readTree(lines[0]);
    return line.get("outcome").asText() + " " + line.get("code").asText();
  }

  private long mintTimerCount(String code) {
    Timer timer = metrics.registry().find("token_authority.rpc.duration").tag("method", MINT).tag("code", code).timer();
    return timer == null ? 0 : timer.count();
  }

  private record MintCall(
      ServerCall.Listener<MintSessionRequest> transportSide, ServerCall<MintSessionRequest, MintSessionResponse> serviceSide) {
    void answer() {
      serviceSide.sendHeaders(new Metadata());
      serviceSide.sendMessage(
          MintSessionResponse.newBuilder().setSessionId("ses_000000000000000000000001").setToken("t").build());
    }

    void serviceCloses(Status status) {
      serviceSide.close(status, new Metadata());
    }

    void transportCancels() {
      transportSide.onCancel();
    }
  }
}
