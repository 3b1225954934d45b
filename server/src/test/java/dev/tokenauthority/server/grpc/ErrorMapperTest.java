package dev.tokenauthority.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tokenauthority.server.error.StoreUnavailableException;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What the log says while the store fails every call. */
class ErrorMapperTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(ErrorMapper.class);
  private final ListAppender<ILoggingEvent> seen = new ListAppender<>();

  @BeforeEach
  void watch() {
    seen.start();
    logger.addAppender(seen);
  }

  @AfterEach
  void unwatch() {
    logger.detachAppender(seen);
  }

  @Test
  void aStoreOutage_isOneLineAtOnce_thenOneLinePerIntervalCountingTheCallsBetween() throws Exception {
    ErrorMapper.StoreTroubleLog trouble = new ErrorMapper.StoreTroubleLog(Duration.ofMillis(300));
    StoreUnavailableException down = new StoreUnavailableException("a store write failed: [SQLITE_FULL]", null);

    for (int i = 0; i < 1000; i++) {
      trouble.warn(down);
    }
    assertThat(seen.list).hasSize(1);
    Thread.sleep(400);
    trouble.warn(down);

    assertThat(seen.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
        "store unavailable: a store write failed: [SQLITE_FULL]",
        "store unavailable: a store write failed: [SQLITE_FULL] (and 999 more calls failed by the store since the last such line)");
  }

  @Test
  void everyCallFailedByTheStore_isStillAnsweredStoreUnavailable_loggedOrNot() {
    for (int i = 0; i < 3; i++) {
      Status status = ErrorMapper.toStatusException(new StoreUnavailableException("down", null)).getStatus();
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
    assertThat(seen.list.size()).isLessThanOrEqualTo(1);
  }
}
