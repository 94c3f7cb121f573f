package dev.sluice.function;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.micronaut.function.aws.proxy.MockLambdaContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The handler as the Lambda runtime makes it: its no-argument constructor builds the service from
 * the environment alone, here the embedded default (the in-process store, the demo policy of 10 a
 * minute), and answers API Gateway HTTP API events.
 */
class HttpApiHandlerTest {
    private static APIGatewayV2HTTPEvent post(String path, String body) {
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRawPath(path)
                .withHeaders(Map.of("content-type", "application/json"))
                .withBody(body)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                                .withMethod("POST")
                                .withPath(path)
                                .build())
                        .build())
                .build();
    }

    @Test
    void theRuntimesConstructorServesTheDemoPolicyOnTheEmbeddedDefault() {
        try (HttpApiHandler handler = new HttpApiHandler()) {
            String key = "fn-" + UUID.randomUUID();
            List<Integer> statuses = new ArrayList<>();
            APIGatewayV2HTTPResponse last = null;
            for (int i = 0; i < 11; i++) {
                last = handler.handleRequest(
                        post("/v1/check", "{\"policy\":\"demo\",\"key\":\"" + key + "\"}"), new MockLambdaContext());
                statuses.add(last.getStatusCode());
            }
            assertThat(statuses.subList(0, 10)).containsOnly(200);
            assertThat(statuses.get(10)).isEqualTo(429);
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            headers.putAll(last.getHeaders());
            assertThat(headers).containsEntry("Content-Type", "application/problem+json");
            assertThat(headers).containsEntry("RateLimit-Policy", "\"demo\";q=10;w=60");
            assertThat(Long.parseLong(headers.get("Retry-After"))).isPositive();
            assertThat(last.getBody()).contains("\"violated-policies\":[\"demo\"]", "\"remaining\":0");

            APIGatewayV2HTTPResponse bad =
                    handler.handleRequest(post("/v1/check", "{\"policy\":\"demo\"}"), new MockLambdaContext());
            assertThat(bad.getStatusCode()).isEqualTo(400);
            assertThat(bad.getBody()).contains("\"invalid-params\":[{\"name\":\"key\"");
        }
    }
}
