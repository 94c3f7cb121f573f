package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: a reset ({@code DELETE /v1/limits/{policy}/{key}}) is an administrative call — once
 * admin tokens are configured it needs one; a service token is refused (403), none or an unknown
 * one 401; a refused reset restores nothing. Real HTTP against a real node.
 */
class ResetAuthIT {
    private static final String ADMIN = "adm-" + UUID.randomUUID();
    private static final String SERVICE = "svc-" + UUID.randomUUID();

    private static HttpResponse<String> send(ServiceNode node, String method, String path, String body, String token) {
        return ServiceNode.call(node.url(), method, path, body, token);
    }

    private static int check(ServiceNode node, String key, String token) {
        return send(node, "POST", "/v1/check", "{\"policy\":\"demo\",\"key\":\"" + key + "\"}", token)
                .statusCode();
    }

    /** Spends the demo policy's 10 units for {@code key}; the 11th check is refused. */
    private static void exhaust(ServiceNode node, String key, String token) {
        for (int i = 0; i < 10; i++) {
            assertThat(check(node, key, token)).isEqualTo(200);
        }
        assertThat(check(node, key, token)).isEqualTo(429);
    }

    private static void assertRefused(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.body()).doesNotContain(ADMIN).doesNotContain(SERVICE);
        if (status == 401) {
            assertThat(r.headers().firstValue("WWW-Authenticate"))
                    .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        }
    }

    @Test
    void withServiceAndAdminTokensOnlyAnAdminTokenResets() {
        try (ServiceNode node =
                ServiceNode.start(Map.of("limiter.admin.tokens", ADMIN, "limiter.admin.service-tokens", SERVICE))) {
            String key = "k-" + UUID.randomUUID();
            exhaust(node, key, SERVICE);
            String path = "/v1/limits/demo/" + key;
            assertRefused(send(node, "DELETE", path, null, null), 401);
            assertRefused(send(node, "DELETE", path, null, "nope"), 401);
            assertRefused(send(node, "DELETE", path, null, SERVICE), 403);
            assertRefused(send(node, "DELETE", path, null, ADMIN + "x"), 401);
            assertThat(check(node, key, SERVICE))
                    .as("no refused reset restored anything")
                    .isEqualTo(429);
            // a look is a service's call: its token suffices
            assertThat(send(node, "GET", path, null, SERVICE).statusCode()).isEqualTo(200);
            assertThat(send(node, "DELETE", path, null, ADMIN).statusCode()).isEqualTo(204);
            assertThat(check(node, key, SERVICE))
                    .as("the admin's reset restored the allowance")
                    .isEqualTo(200);
            // an admin token may do what a service may
            assertThat(check(node, "other-" + key, ADMIN)).isEqualTo(200);
        }
    }

    @Test
    void withAdminTokensOnlyChecksStayOpenAndResetsNeedOne() {
        try (ServiceNode node = ServiceNode.start(Map.of("limiter.admin.tokens", ADMIN))) {
            String key = "k-" + UUID.randomUUID();
            exhaust(node, key, null);
            String path = "/v1/limits/demo/" + key;
            assertRefused(send(node, "DELETE", path, null, null), 401);
            assertRefused(send(node, "DELETE", path, null, "nope"), 401);
            // an unknown policy learns nothing before the token is checked
            assertRefused(send(node, "DELETE", "/v1/limits/no-such-policy/" + key, null, null), 401);
            assertThat(check(node, key, null)).isEqualTo(429);
            assertThat(send(node, "DELETE", path, null, ADMIN).statusCode()).isEqualTo(204);
            assertThat(check(node, key, null)).isEqualTo(200);
        }
    }

    @Test
    void withoutAdminTokensAResetFollowsTheServiceTokenRule() {
        try (ServiceNode node = ServiceNode.start(Map.of("limiter.admin.service-tokens", SERVICE))) {
            String key = "k-" + UUID.randomUUID();
            exhaust(node, key, SERVICE);
            String path = "/v1/limits/demo/" + key;
            assertRefused(send(node, "DELETE", path, null, null), 401);
            assertThat(send(node, "DELETE", path, null, SERVICE).statusCode()).isEqualTo(204);
            assertThat(check(node, key, SERVICE)).isEqualTo(200);
        }
        try (ServiceNode open = ServiceNode.start(Map.of())) {
            String key = "k-" + UUID.randomUUID();
            exhaust(open, key, null);
            assertThat(send(open, "DELETE", "/v1/limits/demo/" + key, null, null)
                            .statusCode())
                    .as("no authentication configured: the reset is open, as the contract allows")
                    .isEqualTo(204);
        }
    }
}
