package dev.tokenauthority.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.QuotaFailure;
import com.google.rpc.RetryInfo;
import dev.tokenauthority.server.error.AuthorityException;
import dev.tokenauthority.server.error.ErrorReason;
import dev.tokenauthority.server.error.FieldViolation;
import dev.tokenauthority.server.error.StoreUnavailableException;
import dev.tokenauthority.server.ratelimit.RateLimiter;
import dev.tokenauthority.server.secret.RandomStrings;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses: a {@code google.rpc.Status} with an
 * {@code ErrorInfo} (domain {@code tokenauthority}), plus {@code BadRequest} for invalid
 * fields and {@code RetryInfo}/{@code QuotaFailure} for limits. An unexpected exception
 * becomes INTERNAL with a plain message and a reference; its stack trace goes to the log only.
 */
public final class ErrorMapper {
  public static final String DOMAIN = "tokenauthority";
  /**
   * ErrorInfo metadata of a STORE_UNAVAILABLE whose write may have committed: {@code unknown}.
   * Without it, STORE_UNAVAILABLE means nothing was written and a retry is safe.
   */
  public static final String COMMIT_STATE = "commit_state";

  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);
  private static final StoreTroubleLog STORE_TROUBLE = new StoreTroubleLog(Duration.ofSeconds(10));

  /**
   * The warning of calls failed by the store: while it is down every call fails, so one line per
   * call would be thousands a second, each dropped by the log's queue and hiding everything else.
   * The first failure is logged at once, then at most one line per interval, saying how many
   * calls failed since the last.
   */
  static final class StoreTroubleLog {
    private final long intervalNanos;
    private final AtomicLong nextLineNanos;
    private final LongAdder unlogged = new LongAdder();

    StoreTroubleLog(Duration interval) {
      this.intervalNanos = interval.toNanos();
      this.nextLineNanos = new AtomicLong(System.nanoTime() - intervalNanos);
    }

    /** Logs {@code e} now, or counts it for the next line; whether it was logged. */
    boolean warn(StoreUnavailableException e) {
      long now = System.nanoTime();
      long next = nextLineNanos.get();
      if (now - next < 0 || !nextLineNanos.compareAndSet(next, now + intervalNanos)) {
        unlogged.increment();
        return false;
      }
      long more = unlogged.sumThenReset();
      log.warn("store unavailable{}: {}{}", e.commitUnknown() ? " (commit outcome unknown)" : "", e.getMessage(),
          more == 0 ? "" : " (and " + more + " more calls failed by the store since the last such line)");
      return true;
    }
  }

  private ErrorMapper() {}

  /** The gRPC status exception for any failure thrown while serving a call. */
  public static StatusRuntimeException toStatusException(Throwable t) {
    if (t instanceof AuthorityException e) {
      return fromAuthority(e);
    }
    if (t instanceof StoreUnavailableException e) {
      STORE_TROUBLE.warn(e);
      if (e.commitUnknown()) {
        return build(Code.UNAVAILABLE, ErrorReason.STORE_UNAVAILABLE.wireName(),
            "the store failed while committing; the change may have been made: check before retrying (Introspect a redeemed token)",
            Map.of(COMMIT_STATE, "unknown"));
      }
      return build(Code.UNAVAILABLE, ErrorReason.STORE_UNAVAILABLE.wireName(), "the store is unavailable; retry later");
    }
    if (t instanceof StatusRuntimeException e) {
      return e;
    }
    String ref = RandomStrings.base62(10);
    log.error("internal error ref={}", ref, t);
    return build(Code.INTERNAL, ErrorReason.INTERNAL.wireName(), "internal error (ref " + ref + ")");
  }

  /**
   * The ErrorInfo reason (domain {@code tokenauthority}) a call was closed with, or null when
   * its status carries none (OK, or a failure of gRPC itself such as a deadline).
   */
  public static String reasonOf(io.grpc.Status status, io.grpc.Metadata trailers) {
    if (status.isOk() || trailers == null) {
      return null;
    }
    com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(status, trailers);
    return details == null ? null : reasonOf(details);
  }

  /** The ErrorInfo reason (domain {@code tokenauthority}) of a status, or null when it carries none. */
  public static String reasonOf(com.google.rpc.Status details) {
    for (Any detail : details.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          ErrorInfo info = detail.unpack(ErrorInfo.class);
          if (DOMAIN.equals(info.getDomain())) {
            return info.getReason();
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null;
        }
      }
    }
    return null;
  }

  /**
   * RESOURCE_EXHAUSTED for a request over the size limit (once decompressed), with ErrorInfo
   * reason {@code INVALID_REQUEST}: gRPC's own code for an oversized message, our reason for why.
   */
  public static StatusRuntimeException requestTooLarge(String message) {
    return build(Code.RESOURCE_EXHAUSTED, ErrorReason.INVALID_REQUEST.wireName(), message);
  }

  /**
   * A request grpc's transport refused before our code saw it (a frame cut short, too large),
   * as the status it sent the client ({@code code}) with ErrorInfo reason {@code INVALID_REQUEST}.
   */
  public static StatusRuntimeException refusedByTransport(io.grpc.Status.Code code, String message) {
    return build(Code.forNumber(code.value()), ErrorReason.INVALID_REQUEST.wireName(), message);
  }

  private static StatusRuntimeException fromAuthority(AuthorityException e) {
    ErrorReason reason = e.reason();
    if (e.getCause() != null) {
      String ref = RandomStrings.base62(10);
      log.error("{} ref={}", reason, ref, e.getCause());
    }
    Map<String, String> metadata = errorInfoMetadata(e);
    com.google.rpc.Status.Builder status =
        com.google.rpc.Status.newBuilder()
            .setCode(code(reason.kind()).getNumber())
            .setMessage(e.getMessage())
            .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason.wireName()).setDomain(DOMAIN).putAllMetadata(metadata).build()));
    if (!e.violations().isEmpty()) {
      BadRequest.Builder bad = BadRequest.newBuilder();
      for (FieldViolation v : e.violations()) {
        bad.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(v.field()).setDescription(v.description()));
      }
      status.addDetails(Any.pack(bad.build()));
    }
    if (e.retryAfter() != null) {
      Duration d = e.retryAfter();
      status.addDetails(
          Any.pack(
              RetryInfo.newBuilder()
                  .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()))
                  .build()));
      status.addDetails(
          Any.pack(
              QuotaFailure.newBuilder()
                  .addViolations(
                      QuotaFailure.Violation.newBuilder()
                          .setSubject(e.metadata().getOrDefault("subject", ""))
                          .setDescription(e.getMessage()))
                  .build()));
    }
    com.google.rpc.Status built = status.build();
    if (!metadata.containsKey("limit")) {
      return StatusProto.toStatusRuntimeException(built);
    }
    // A limit's refusal (RATE_LIMITED, QUOTA_EXCEEDED) carries x-ratelimit-* and retry-after in
    // its trailers on every method, Redeem's quota as MintSession's rate, from the same details
    // the HTTP port and Envoy's Check make their headers of.
    Metadata trailers = new Metadata();
    HttpErrorEnvelope.of(built).headers().forEach((name, value) -> {
      if (RateLimitHeaders.NAMES.contains(name)) {
        trailers.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
      }
    });
    return StatusProto.toStatusRuntimeException(built, trailers);
  }

  /** The exception's metadata, and for a rate limit the limiter's decision as api.md names it. */
  private static Map<String, String> errorInfoMetadata(AuthorityException e) {
    if (e.rateLimit().isEmpty()) {
      return e.metadata();
    }
    RateLimiter.Decision d = e.rateLimit().get();
    Map<String, String> m = new LinkedHashMap<>(e.metadata());
    m.put("limit", String.valueOf(d.limit()));
    m.put("remaining", String.valueOf(d.remaining()));
    m.put("reset", String.valueOf(d.resetEpochSeconds()));
    return m;
  }

  private static StatusRuntimeException build(Code code, String reason, String message) {
    return build(code, reason, message, Map.of());
  }

  private static StatusRuntimeException build(Code code, String reason, String message, Map<String, String> metadata) {
    return StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder()
            .setCode(code.getNumber())
            .setMessage(message)
            .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN).putAllMetadata(metadata).build()))
            .build());
  }

  private static Code code(ErrorReason.Kind kind) {
    return switch (kind) {
      case UNAUTHENTICATED -> Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
      case INVALID_ARGUMENT -> Code.INVALID_ARGUMENT;
      case NOT_FOUND -> Code.NOT_FOUND;
      case ALREADY_EXISTS -> Code.ALREADY_EXISTS;
      case RESOURCE_EXHAUSTED -> Code.RESOURCE_EXHAUSTED;
      case INTERNAL -> Code.INTERNAL;
      case UNAVAILABLE -> Code.UNAVAILABLE;
    };
  }
}
