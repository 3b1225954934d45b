package dev.tokenauthority.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.ShuttingDownException;
import com.linecorp.armeria.server.ServiceRequestContext;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** How the HTTP port answers failures that never reached a call's own reply. */
class EnvelopeErrorHandlerTest {
  private final EnvelopeErrorHandler handler = new EnvelopeErrorHandler();

  @Test
  void aCallStillRunningWhenTheServerStops_is503Unavailable_notA500() {
    ServiceRequestContext ctx = ServiceRequestContext.of(HttpRequest.of(HttpMethod.POST, "/v1/sessions"));

    AggregatedHttpResponse reply =
        handler.onServiceException(ctx, new CompletionException(ShuttingDownException.get())).aggregate().join();

    assertThat(reply.status().code()).isEqualTo(503);
    assertThat(JsonParser.parseString(reply.contentUtf8()).getAsJsonObject().getAsJsonObject("error").get("code").getAsString())
        .isEqualTo("UNAVAILABLE");
    assertThat(handler.cutOffAtShutdown()).as("counted, for the stop's one warning line").isEqualTo(1);
  }
}
