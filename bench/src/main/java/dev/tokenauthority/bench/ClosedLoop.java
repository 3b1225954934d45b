package dev.tokenauthority.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Keeps a fixed number of calls in flight for a fixed time: each completion records its
 * latency and starts the next call (a closed loop, so latency is not hidden by queueing in the
 * generator).
 */
final class ClosedLoop {
  /**
   * What one measured phase produced. The CPU times are those the server process and this
   * generator used during the phase: CPU per call varies far less than calls per second on a
   * shared machine, and says which side a workload's cost is on.
   */
  record Outcome(long ok, double seconds, Histogram latencyMicros, Map<String, Long> errors,
      long serverCpuNanos, long clientCpuNanos) {}

  /** The process whose CPU time phases report; none until the benchmark names its server. */
  private static volatile ProcessHandle server;

  private ClosedLoop() {}

  /** Names the server process whose CPU time each phase reports from now on. */
  static void measureCpuOf(ProcessHandle serverProcess) {
    server = serverProcess;
  }

  private static long cpuNanos(ProcessHandle process) {
    return process == null ? 0 : process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  /**
   * @param call starts one call; returns null when there is nothing left to do (e.g. no
   *     pre-minted token left), which ends the phase early
   */
  static Outcome run(int inFlight, Duration duration, Supplier<ListenableFuture<?>> call) throws InterruptedException {
    Recorder recorder = new Recorder(3);
    LongAdder ok = new LongAdder();
    Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    CountDownLatch finished = new CountDownLatch(inFlight);
    ProcessHandle measured = server;
    long serverCpuStart = cpuNanos(measured);
    long clientCpuStart = cpuNanos(ProcessHandle.current());
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    AtomicLong lastCompletion = new AtomicLong(start);
    for (int i = 0; i < inFlight; i++) {
      new Runner(call, recorder, ok, errors, finished, end, lastCompletion).next();
    }
    if (!finished.await(duration.toSeconds() + 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("calls did not finish within a minute of the phase's end");
    }
    double seconds = (lastCompletion.get() - start) / 1e9;
    long serverCpu = cpuNanos(measured) - serverCpuStart;
    long clientCpu = cpuNanos(ProcessHandle.current()) - clientCpuStart;
    Map<String, Long> errorCounts = new java.util.TreeMap<>();
    errors.forEach((k, v) -> errorCounts.put(k, v.sum()));
    return new Outcome(ok.sum(), seconds, recorder.getIntervalHistogram(), errorCounts, serverCpu, clientCpu);
  }

  private static final class Runner implements FutureCallback<Object> {
    private final Supplier<ListenableFuture<?>> call;
    private final Recorder recorder;
    private final LongAdder ok;
    private final Map<String, LongAdder> errors;
    private final CountDownLatch finished;
    private final long end;
    private final AtomicLong lastCompletion;
    private long started;

    Runner(
        Supplier<ListenableFuture<?>> call,
        Recorder recorder,
        LongAdder ok,
        Map<String, LongAdder> errors,
        CountDownLatch finished,
        long end,
        AtomicLong lastCompletion) {
      this.call = call;
      this.recorder = recorder;
      this.ok = ok;
      this.errors = errors;
      this.finished = finished;
      this.end = end;
      this.lastCompletion = lastCompletion;
    }

    void next() {
      started = System.nanoTime();
      ListenableFuture<?> future = started < end ? call.get() : null;
      if (future == null) {
        finished.countDown();
        return;
      }
      Futures.addCallback(future, this, MoreExecutors.directExecutor());
    }

    @Override
    public void onSuccess(Object result) {
      ok.increment();
      done();
    }

    @Override
    public void onFailure(Throwable t) {
      errors.computeIfAbsent(reason(t), k -> new LongAdder()).increment();
      done();
    }

    private void done() {
      long now = System.nanoTime();
      recorder.recordValue(Math.max(1, (now - started) / 1000));
      lastCompletion.accumulateAndGet(now, Math::max);
      next();
    }
  }

  static String reason(Throwable t) {
    if (t instanceof HttpLoad.Refused refused) {
      return refused.getMessage();
    }
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status != null) {
      for (com.google.protobuf.Any any : status.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            return any.unpack(ErrorInfo.class).getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            break;
          }
        }
      }
    }
    return Status.fromThrowable(t).getCode().name();
  }
}
