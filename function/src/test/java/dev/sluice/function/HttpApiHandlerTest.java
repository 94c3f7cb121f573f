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
        return event("POST", path, "application/json", body, false);
    }

    static APIGatewayV2HTTPEvent event(String method, String path, String contentType, String body, boolean base64) {
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRawPath(path)
                .withHeaders(Map.of("content-type", contentType))
                .withBody(body)
                .withIsBase64Encoded(base64)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                                .withMethod(method)
                                .withPath(path)
                                .build())
                        .build())
                .build();
    }

    private static long remaining(HttpApiHandler handler, String key) {
        APIGatewayV2HTTPResponse r = handler.handleRequest(
                event("GET", "/v1/limits/demo/" + key, "application/json", null, false), new MockLambdaContext());
        assertThat(r.getStatusCode()).isEqualTo(200);
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.putAll(r.getHeaders());
        return Long.parseLong(headers.get("RateLimit-Remaining"));
    }

    /**
     * Found black-box: behind the function's servlet layer a check sent as a form (curl -d) was
     * refused, a body of any size was taken, an empty or undecodable body got a problem naming no
     * field, and /health stayed DOWN (no HTTP server ever starts). Each now answers as the server does.
     */
    @Test
    void answersAsTheServerDoesWhereTheServletLayerDiffers() {
        try (HttpApiHandler handler = new HttpApiHandler()) {
            String key = "form-" + UUID.randomUUID();
            String check = "{\"policy\":\"demo\",\"key\":\"" + key + "\"}";
            APIGatewayV2HTTPResponse form = handler.handleRequest(
                    event("POST", "/v1/check", "application/x-www-form-urlencoded", check, false),
                    new MockLambdaContext());
            assertThat(form.getStatusCode()).as(form.getBody()).isEqualTo(200);
            assertThat(remaining(handler, key)).isEqualTo(9);

            String big = "{\"policy\":\"demo\",\"key\":\"" + key + "\",\"pad\":\"" + "p".repeat(70_000) + "\"}";
            APIGatewayV2HTTPResponse tooLarge = handler.handleRequest(post("/v1/check", big), new MockLambdaContext());
            assertThat(tooLarge.getStatusCode()).isEqualTo(413);
            assertThat(tooLarge.getBody()).contains("\"invalid-params\":[{\"name\":\"body\"");

            for (APIGatewayV2HTTPEvent bad : List.of(
                    event("POST", "/v1/check", "application/json", null, false),
                    event("POST", "/v1/check", "application/json", "", false),
                    event("POST", "/v1/check", "application/json", "!!!notbase64{", true))) {
                APIGatewayV2HTTPResponse r = handler.handleRequest(bad, new MockLambdaContext());
                assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(400);
                assertThat(r.getBody())
                        .contains("\"invalid-params\":[{\"name\":\"body\"")
                        .doesNotContain("about:blank"); // the server's problem type for a bad body
            }
            assertThat(remaining(handler, key))
                    .as("nothing consumed by the refused ones")
                    .isEqualTo(9);

            APIGatewayV2HTTPResponse health = handler.handleRequest(
                    event("GET", "/health", "application/json", null, false), new MockLambdaContext());
            assertThat(health.getStatusCode()).as(health.getBody()).isEqualTo(200);
        }
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
