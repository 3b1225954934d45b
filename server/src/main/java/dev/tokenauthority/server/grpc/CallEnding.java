package dev.tokenauthority.server.grpc;

import dev.tokenauthority.server.apikey.Caller;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * How one call ended, as {@link CallRecordingInterceptor} decided it once for every recorder.
 *
 * @param code the outcome: the call's status, or for an ext_authz Check that refused (it answers
 *     OK either way) the code of its refusal
 * @param reason our ErrorInfo reason of a refusal, null for a success and for an ending that is
 *     not ours to explain (a cancellation, an unexpected error)
 * @param request the request message, null when none arrived
 * @param response the response of a call that ended OK, null otherwise
 * @param caller the authenticated caller, null before authentication or when no recorder asked
 * @param attributes the transport's attributes of the call (peer address, TLS session)
 */
record CallEnding(
    MethodDescriptor<?, ?> method,
    Status.Code code,
    String reason,
    Object request,
    Object response,
    Caller caller,
    Attributes attributes,
    long startNanos) {

  static CallEnding of(
      MethodDescriptor<?, ?> method, Status status, Metadata trailers, Object request, Object response,
      Caller caller, Attributes attributes, long startNanos) {
    com.google.rpc.Status denial = ExtAuthzService.denial(response);
    Status.Code code = denial == null ? status.getCode() : Status.fromCodeValue(denial.getCode()).getCode();
    String reason = denial == null ? ErrorMapper.reasonOf(status, trailers) : ErrorMapper.reasonOf(denial);
    return new CallEnding(
        method, code, reason, request, code == Status.Code.OK ? response : null, caller, attributes, startNanos);
  }

  boolean ok() {
    return code == Status.Code.OK;
  }

  /** Whether the call is an ext_authz Check in redeem mode: it uses a session, as Redeem does. */
  boolean checkConsumesUse() {
    return ExtAuthzService.consumesUse(request);
  }
}
