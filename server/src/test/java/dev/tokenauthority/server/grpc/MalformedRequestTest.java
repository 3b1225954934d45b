package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.ErrorInfo;
import dev.tokenauthority.server.Authority;
import dev.tokenauthority.server.TokenAuthorityServer;
import dev.tokenauthority.server.audit.AuditLog;
import dev.tokenauthority.server.store.memory.MemoryStore;
import dev.tokenauthority.server.testing.InProcessAuthority;
import dev.tokenauthority.server.testing.RawBytes;
import dev.tokenauthority.server.testing.RawHttp2;
import dev.tokenauthority.server.testing.TestClock;
import dev.tokenauthority.v1.MintSessionRequest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Codec;
import io.grpc.CompressorRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Requests whose bytes are not a valid message, sent raw over a real Netty connection: each is
 * INVALID_ARGUMENT / INVALID_REQUEST (RESOURCE_EXHAUSTED when it is too large once
 * decompressed) with an ErrorInfo, writes one audit line and at most one log line, and is never
 * UNKNOWN or INTERNAL.
 */
class MalformedRequestTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MINT = "tokenauthority.v1.TokenAuthority/MintSession";
  private static final String CHECK = "envoy.service.auth.v3.Authorization/Check";
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ByteArrayOutputStream auditOut = new ByteArrayOutputStream();
  private AuditLog audit;
  private TokenAuthorityServer server;
  private ManagedChannel channel;
  private String adminSecret;
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final List<LogRecord> julLogged = new ArrayList<>();
  private final Handler julHandler = new Handler() {
    @Override
    public void publish(LogRecord record) {
      if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
        synchronized (julLogged) {
          julLogged.add(record);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void start() throws Exception {
    audit = new AuditLog(auditOut, true, 1024);
    Authority authority = new Authority(new MemoryStore(), Authority.Settings.defaults(), new TestClock());
    // directExecutor: a log line of a call is written before its status leaves the event loop.
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).directExecutor();
    server = new TokenAuthorityServer(builder, authority, Duration.ofHours(1), null, audit).start();
    adminSecret = authority.ensureAdminKey(Optional.empty()).orElseThrow();
    // The client "compresses" with an identity codec named gzip, so the test chooses the exact
    // bytes the server must gunzip.
    CompressorRegistry rawGzip = CompressorRegistry.newEmptyInstance();
    rawGzip.register(new RawBytesAsGzip());
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
        .compressorRegistry(rawGzip).build();
    logged.start();
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logged);
    java.util.logging.Logger.getLogger("").addHandler(julHandler);
  }

  @AfterEach
  void stop() throws Exception {
    java.util.logging.Logger.getLogger("").removeHandler(julHandler);
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logged);
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop(Duration.ZERO);
    audit.close();
  }

  static Stream<Arguments> malformedBodies() throws IOException {
    byte[] random = new byte[512];
    new Random(42).nextBytes(random);
    return Stream.of(
        Arguments.of("random bytes", random, false),
        Arguments.of("an invalid tag", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, false),
        Arguments.of("invalid UTF-8 in external_user_id", stringField(1, new byte[] {'r', 'e', 'p', (byte) 0xc3, 0x28}), false),
        Arguments.of("a length past the end", new byte[] {0x0a, 0x7f, 'a'}, false),
        Arguments.of("a context nested 34 levels", nestedContext(34).toByteArray(), false),
        Arguments.of("a context nested 200 levels", nestedContext(200).toByteArray(), false),
        Arguments.of("corrupt gzip", random, true),
        Arguments.of("gzip of random bytes", gzip(random), true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void mintSession_malformedBody_isInvalidRequestWithOneAuditLine(String name, byte[] body, boolean gzip) throws Exception {
    StatusRuntimeException e = call(body, gzip);

    assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    ErrorInfo info = InProcessAuthority.errorInfo(e);
    assertThat(info.getDomain()).isEqualTo(ErrorMapper.DOMAIN);
    assertThat(info.getReason()).isEqualTo("INVALID_REQUEST");
    assertAuditedOnce("INVALID_ARGUMENT");
    assertAtMostOneLogLine();
  }

  /** The bodies that are malformed whatever the message: Envoy's CheckRequest as much as a mint's. */
  static Stream<Arguments> malformedCheckBodies() throws IOException {
    return malformedBodies().filter(a -> !a.get()[0].toString().contains("external_user_id")
        && !a.get()[0].toString().contains("context"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedCheckBodies")
  void envoyCheck_malformedBody_isInvalidRequestWithOneAuditLine(String name, byte[] body, boolean gzip) throws Exception {
    StatusRuntimeException e = call(CHECK, body, gzip);

    assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(InProcessAuthority.errorInfo(e).getReason()).isEqualTo("INVALID_REQUEST");
    assertAuditedOnce(CHECK, "INVALID_ARGUMENT");
    assertAtMostOneLogLine();
  }

  @Test
  void mintSession_emptyBodyNoMessage_isInvalidRequest() throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(RawBytes.unary(MINT), options(false));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    Metadata trailers = new Metadata();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata t) {
        trailers.merge(t);
        closed.complete(status);
      }
    }, authorized());
    call.request(1);
    call.halfClose();
    Status status = closed.get(10, TimeUnit.SECONDS);

    StatusRuntimeException e = status.asRuntimeException(trailers);
    assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(InProcessAuthority.errorInfo(e).getReason()).isEqualTo("INVALID_REQUEST");
    assertAuditedOnce("INVALID_ARGUMENT");
    assertAtMostOneLogLine();
  }

  @Test
  void mintSession_gzipBomb_isResourceExhaustedWithErrorInfo() throws Exception {
    // external_user_id of 16 MiB of 'a': a valid message, 16 KiB gzipped (under the frame limit),
    // far over the limit once inflated.
    int length = 16 << 20;
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(compressed)) {
      CodedOutputStream header = CodedOutputStream.newInstance(gz);
      header.writeTag(1, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
      header.writeUInt32NoTag(length);
      header.flush();
      byte[] chunk = new byte[1 << 20];
      java.util.Arrays.fill(chunk, (byte) 'a');
      for (int i = 0; i < 16; i++) {
        gz.write(chunk);
      }
    }
    assertThat(compressed.size()).isLessThan(TokenAuthorityServer.MAX_INBOUND_MESSAGE_BYTES);

    StatusRuntimeException e = call(compressed.toByteArray(), true);

    assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(InProcessAuthority.errorInfo(e).getReason()).isEqualTo("INVALID_REQUEST");
    assertAuditedOnce("RESOURCE_EXHAUSTED");
    assertAtMostOneLogLine();
  }

  @Test
  void mintSession_frameCutShortByTheEndOfTheStream_isAuditedAsRefusedNotCancelled() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(server.port())) {
      h2.grpcHeaders(1, MINT, java.util.Map.of("authorization", "Bearer " + adminSecret));
      // The prefix promises 100 bytes; the stream ends after 10.
      h2.data(1, RawHttp2.grpcFrame(false, 100, new byte[10]), true);
      assertThat(h2.awaitEnd(1)).isIn("trailers", "reset");
    }

    // grpc-java's transport answers the client INTERNAL itself; we record what it was.
    assertAuditedOnce("INTERNAL");
    assertAtMostOneLogLine();
  }

  @Test
  void mintSession_frameAnnouncedOverTheLimit_isAuditedAsRefusedResourceExhausted() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(server.port())) {
      h2.grpcHeaders(1, MINT, java.util.Map.of("authorization", "Bearer " + adminSecret, "grpc-encoding", "gzip"));
      h2.data(1, RawHttp2.grpcFrame(true, TokenAuthorityServer.MAX_INBOUND_MESSAGE_BYTES + 1, new byte[16]), false);
      assertThat(h2.awaitEnd(1)).isIn("trailers", "reset");
    }

    assertAuditedOnce("RESOURCE_EXHAUSTED");
    assertAtMostOneLogLine();
  }

  @Test
  void mintSession_validBodyAfterMalformedOnes_isServed() throws Exception {
    call(new byte[] {(byte) 0xff}, false);
    byte[] valid = MintSessionRequest.newBuilder().setExternalUserId("rep_8842").build().toByteArray();
    byte[] response = ClientCalls.blockingUnaryCall(authorizedChannel(), RawBytes.unary(MINT), options(false).withDeadlineAfter(10, TimeUnit.SECONDS), valid);
    assertThat(dev.tokenauthority.v1.MintSessionResponse.parseFrom(response).getSessionId()).startsWith("ses_");
  }

  private StatusRuntimeException call(byte[] body, boolean gzip) {
    return call(MINT, body, gzip);
  }

  private StatusRuntimeException call(String method, byte[] body, boolean gzip) {
    try {
      ClientCalls.blockingUnaryCall(authorizedChannel(), RawBytes.unary(method), options(gzip).withDeadlineAfter(10, TimeUnit.SECONDS), body);
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the malformed request was answered OK");
  }

  private static CallOptions options(boolean gzip) {
    return gzip ? CallOptions.DEFAULT.withCompression("gzip") : CallOptions.DEFAULT;
  }

  private io.grpc.Channel authorizedChannel() {
    return io.grpc.ClientInterceptors.intercept(channel, io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(authorized()));
  }

  private Metadata authorized() {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + adminSecret);
    return headers;
  }

  private void assertAuditedOnce(String code) throws Exception {
    assertAuditedOnce(MINT, code);
  }

  private void assertAuditedOnce(String rpc, String code) throws Exception {
    server.stop(Duration.ofSeconds(1));
    audit.close();
    String text = auditOut.toString(StandardCharsets.UTF_8);
    List<JsonNode> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        lines.add(JSON.readTree(line));
      }
    }
    assertThat(lines).as("audit lines:\n%s", text).hasSize(1);
    JsonNode line = lines.get(0);
    assertThat(line.get("rpc").asText()).isEqualTo(rpc);
    assertThat(line.get("outcome").asText()).isEqualTo("refused");
    assertThat(line.get("code").asText()).isEqualTo(code);
    assertThat(line.get("reason").asText()).isEqualTo("INVALID_REQUEST");
    assertThat(line.get("api_key_id").asText()).startsWith("key_");
  }

  private void assertAtMostOneLogLine() {
    List<String> lines = new ArrayList<>();
    logged.list.stream().filter(ev -> ev.getLevel().isGreaterOrEqual(Level.INFO))
        .forEach(ev -> lines.add(ev.getLoggerName() + ": " + ev.getFormattedMessage()));
    synchronized (julLogged) {
      julLogged.forEach(r -> lines.add(r.getLoggerName() + ": " + r.getMessage()));
    }
    assertThat(lines).as("log lines").hasSizeLessThanOrEqualTo(1);
  }

  /** A MintSessionRequest whose context holds a struct inside a struct, {@code depth} deep. */
  static MintSessionRequest nestedContext(int depth) {
    Struct inner = Struct.newBuilder().putFields("leaf", Value.newBuilder().setStringValue("x").build()).build();
    for (int i = 1; i < depth; i++) {
      inner = Struct.newBuilder().putFields("n", Value.newBuilder().setStructValue(inner).build()).build();
    }
    return MintSessionRequest.newBuilder().setExternalUserId("rep_8842").setContext(inner).build();
  }

  private static byte[] stringField(int number, byte[] value) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    coded.writeBytes(number, ByteString.copyFrom(value));
    coded.flush();
    return out.toByteArray();
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  /** Claims gzip and sends the bytes as they are: the test's bytes are what the server inflates. */
  static final class RawBytesAsGzip implements Codec {
    @Override
    public String getMessageEncoding() {
      return "gzip";
    }

    @Override
    public OutputStream compress(OutputStream os) {
      return os;
    }

    @Override
    public InputStream decompress(InputStream is) {
      return is;
    }
  }
}
