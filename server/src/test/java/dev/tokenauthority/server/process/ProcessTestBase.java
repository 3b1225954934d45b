package dev.tokenauthority.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.tokenauthority.v1.CreateApiKeyRequest;
import dev.tokenauthority.v1.CreateApiKeyResponse;
import dev.tokenauthority.v1.MintSessionRequest;
import dev.tokenauthority.v1.MintSessionResponse;
import dev.tokenauthority.v1.RedeemRequest;
import dev.tokenauthority.v1.RedeemResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * What the process tests share: every server a test starts is killed afterwards, even when the
 * test failed, and no secret or token a test registered may show up in any server's output.
 */
abstract class ProcessTestBase {
  private final List<ServerProcess> servers = new ArrayList<>();
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private final List<String> outputsOfThisTest = new ArrayList<>();

  /** The servers' output is noise when all is well, and the first thing to read when not. */
  @RegisterExtension
  final TestWatcher printServerOutputOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          System.out.println("=== output of the servers of " + context.getDisplayName() + " ===");
          outputsOfThisTest.forEach(System.out::println);
        }
      };

  /** Starts a server and waits until it listens; it is cleaned up after the test. */
  protected ServerProcess start(Path dataDir, Map<String, String> env, String... extraArgs) throws IOException {
    ServerProcess server = launch(dataDir, env, extraArgs);
    server.awaitListening(ServerProcess.START_TIMEOUT);
    return server;
  }

  /** Starts a server without waiting for it; it is cleaned up after the test. */
  protected ServerProcess launch(Path dataDir, Map<String, String> env, String... extraArgs) throws IOException {
    ServerProcess server = ServerProcess.launch(dataDir, env, extraArgs);
    synchronized (servers) {
      servers.add(server);
    }
    return server;
  }

  /** Registers a secret or token that no server may ever print; returns it. */
  protected String secret(String value) {
    secrets.add(value);
    // A token's signature alone is just as sensitive: no log line may carry part of a JWS.
    int lastDot = value.lastIndexOf('.');
    if (value.startsWith("eyJ") && lastDot > 0 && value.length() - lastDot > 40) {
      secrets.add(value.substring(lastDot + 1));
    }
    return value;
  }

  @AfterEach
  void stopServersAndCheckTheyLeakedNoSecret() {
    List<ServerProcess> all;
    synchronized (servers) {
      all = List.copyOf(servers);
      servers.clear();
    }
    for (ServerProcess server : all) {
      server.close();
      outputsOfThisTest.add(server.describe());
    }
    for (ServerProcess server : all) {
      String output = server.output();
      for (String s : secrets) {
        assertThat(output.contains(s))
            .as("server %d printed a secret or token of this test (%s...)", server.pid(), s.substring(0, 6))
            .isFalse();
      }
    }
  }

  // Calls used by several tests.

  protected String createKey(ServerProcess server, String callerSecret, String name, String... scopes) {
    CreateApiKeyResponse created =
        server.stub(callerSecret)
            .createApiKey(CreateApiKeyRequest.newBuilder().setName(name).addAllScopes(List.of(scopes)).build());
    assertThat(created.getSecret()).startsWith("sk_");
    return secret(created.getSecret());
  }

  protected MintSessionResponse mint(ServerProcess server, String callerSecret, String user, int maxUses) {
    MintSessionResponse minted =
        server.stub(callerSecret)
            .mintSession(MintSessionRequest.newBuilder().setExternalUserId(user).setMaxUses(maxUses).build());
    secret(minted.getToken());
    return minted;
  }

  protected RedeemResponse redeem(ServerProcess server, String callerSecret, String token) {
    return server.stub(callerSecret).redeem(RedeemRequest.newBuilder().setToken(token).build());
  }

  /** Runs a call expected to fail and checks its gRPC code and ErrorInfo reason. */
  protected static void assertFails(Status.Code code, String reason, Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("the call should have failed with %s %s", code, reason).isNotNull();
    assertThat(e.getStatus().getCode()).as("status of %s", e).isEqualTo(code);
    assertThat(ServerProcess.reason(e)).as("ErrorInfo reason of %s", e).isEqualTo(reason);
  }
}
