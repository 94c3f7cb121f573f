package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With service tokens configured, {@code /v1/**} answers only services that present one; health stays open. */
class ServiceTokensIT {
    private static final String TOKEN = "svc-" + UUID.randomUUID();
    private static ServiceNode node;

    @BeforeAll
    static void start() {
        node = ServiceNode.start(Map.of("limiter.admin.service-tokens", TOKEN + ",second-" + TOKEN));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static HttpResponse<String> check(String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.url() + "/v1/check"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"demo\",\"key\":\"k\"}"));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return ServiceNode.send(b.build());
    }

    @Test
    void onlyServicesWithATokenAreAnswered() {
        long direct =
                node.context().getBean(dev.sluice.api.DirectPathInstaller.class).served();
        for (String bad : new String[] {null, "nope", TOKEN + "x"}) {
            HttpResponse<String> r = check(bad);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.body()).doesNotContain(TOKEN);
        }
        assertThat(check(TOKEN).statusCode()).isEqualTo(200);
        assertThat(check("second-" + TOKEN).statusCode())
                .as("either of two tokens (rotation)")
                .isEqualTo(200);
        assertThat(ServiceNode.get(node.url(), "/health").statusCode()).isEqualTo(200);
        assertThat(node.context()
                                .getBean(dev.sluice.api.DirectPathInstaller.class)
                                .served()
                        - direct)
                .as("the two checks with a token answered by the direct path; the three without, by the filter")
                .isEqualTo(2);
    }
}
