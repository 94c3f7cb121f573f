package dev.sluice.api;

import static dev.sluice.ServiceNode.num;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.ContractHeaders;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import dev.sluice.testkit.Resp;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** shared/contract/http-api.md over real HTTP, on a node backed by the Redis Cluster. */
@ExtendWith(RedisServersExtension.class)
class HttpContractIT {
    private static RedisCluster cluster;
    private static ServiceNode node;
    private static String base;

    @BeforeAll
    static void start() {
        cluster = RedisServers.cluster();
        node = ServiceNode.start(Map.of(
                "redis.uris",
                cluster.uris(),
                "limiter.policies.five.limit",
                5,
                "limiter.policies.five.period",
                "1m",
                "limiter.policies.burst.limit",
                60,
                "limiter.policies.burst.period",
                "1h",
                "limiter.policies.burst.burst",
                3,
                "limiter.policies.window.algorithm",
                "fixed-window",
                "limiter.policies.window.limit",
                3,
                "limiter.policies.window.period",
                "1h",
                // the node's membership heartbeat (a script, every second) would show in the
                // commandstats that prove a bad input reaches no script; it runs once at start here
                "limiter.local.heartbeat",
                "1h"));
        base = node.url();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static String key() {
        return "user-" + UUID.randomUUID();
    }

    private static HttpResponse<String> check(String policy, String key, int cost) {
        return ServiceNode.post(
                base, "/v1/check", "{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\",\"cost\":" + cost + "}");
    }

    @Test
    void admittedCheckCarriesEveryHeaderAndBodyField() {
        String key = key();
        HttpResponse<String> r = check("five", key, 2);
        long nowSeconds = System.currentTimeMillis() / 1000;
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body())
                .contains("\"allowed\":true", "\"policy\":\"five\"", "\"key\":\"" + key + "\"", "\"degraded\":false");
        assertThat(num(r.body(), "limit")).isEqualTo(5);
        assertThat(num(r.body(), "remaining")).isEqualTo(3);
        assertThat(num(r.body(), "resetSeconds")).isEqualTo(24);
        assertThat(num(r.body(), "retryAfterSeconds")).isZero();
        ContractHeaders.assertDecision(r.headers(), "five", 5, 60, 3, 24, nowSeconds);
        assertThat(r.headers().firstValue("Retry-After")).isEmpty();
    }

    @Test
    void deniedCheckIsProblemJsonWithRetryAfterAndEveryHeader() {
        String key = key();
        assertThat(check("five", key, 5).statusCode()).isEqualTo(200);
        HttpResponse<String> r = check("five", key, 1);
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.body())
                .contains(
                        "\"type\":\"https://iana.org/assignments/http-problem-types#quota-exceeded\"",
                        "\"status\":429",
                        "\"title\":",
                        "\"detail\":",
                        "\"violated-policies\":[\"five\"]",
                        "\"allowed\":false",
                        "\"degraded\":false");
        assertThat(num(r.body(), "remaining")).isZero();
        assertThat(num(r.body(), "retryAfterSeconds")).isEqualTo(12);
        assertThat(num(r.body(), "resetSeconds")).isEqualTo(60);
        var h = r.headers();
        assertThat(h.firstValue("RateLimit-Remaining")).hasValue("0");
        assertThat(h.firstValue("RateLimit")).hasValue("\"five\";r=0;t=60");
        assertThat(h.firstValue("RateLimit-Policy")).hasValue("\"five\";q=5;w=60");
        assertThat(h.firstValue("X-RateLimit-Limit")).hasValue("5");
        assertThat(Long.parseLong(h.firstValue("Retry-After").orElseThrow())).isBetween(12L, 13L);
    }

    @Test
    void retryAfterSpreadsTheCallersWaitingOnOneSubject() {
        // burst 3 of 60 per hour: one unit back every 60 s, so retryAfterSeconds is about 60
        String key = key();
        check("burst", key, 3);
        java.util.List<Long> beyond = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = check("burst", key, 1);
            assertThat(r.statusCode()).isEqualTo(429);
            long body = num(r.body(), "retryAfterSeconds");
            long header = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
            beyond.add(header - body);
        }
        assertThat(beyond.get(0))
                .as("the first caller, alone, is told exactly what it needs")
                .isZero();
        assertThat(beyond)
                .as("the next waiters come back one refill (60 s) later, at most a minute beyond the retry time")
                .allSatisfy(b -> assertThat(b).isBetween(0L, 60L));
        assertThat(beyond.get(1))
                .as("the second waiter is told to come back after the first")
                .isGreaterThanOrEqualTo(59L);
    }

    @Test
    void lookingConsumesNothingAndKeysAreUrlEncoded() {
        String key = "a/b {c}:d ü " + UUID.randomUUID();
        check("five", key, 2);
        String path = "/v1/limits/five/"
                + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = ServiceNode.get(base, path);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(num(r.body(), "remaining")).isEqualTo(3);
            assertThat(r.body()).contains("\"allowed\":true");
            assertThat(r.headers().firstValue("RateLimit")).hasValue("\"five\";r=3;t=24");
        }
        HttpResponse<String> delete = ServiceNode.send(
                HttpRequest.newBuilder(URI.create(base + path)).DELETE().build());
        assertThat(delete.statusCode()).isEqualTo(204);
        assertThat(num(ServiceNode.get(base, path).body(), "remaining")).isEqualTo(5);
    }

    @Test
    void aLookAtAnEmptyBucketSaysWhenOneUnitIsBack() {
        String key = key();
        check("five", key, 5);
        HttpResponse<String> r = ServiceNode.get(base, "/v1/limits/five/" + key);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"allowed\":false");
        assertThat(num(r.body(), "retryAfterSeconds")).isEqualTo(12);
    }

    @Test
    void aBodySentAsAFormByCurlDashDIsStillReadAsJson() {
        HttpResponse<String> r = ServiceNode.send(HttpRequest.newBuilder(URI.create(base + "/v1/check"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"five\",\"key\":\"" + key() + "\"}"))
                .build());
        assertThat(r.statusCode()).isEqualTo(200);
    }

    static Stream<Arguments> badInputs() {
        String longKey = "k".repeat(257);
        return Stream.of(
                Arguments.of("malformed JSON", "{\"policy\":\"five\",", 400, "body"),
                Arguments.of("not an object", "[1,2]", 400, "body"),
                Arguments.of("empty body", "", 400, "body"),
                Arguments.of("two objects", "{\"policy\":\"five\",\"key\":\"v\"} {}", 400, "body"),
                Arguments.of("duplicate field", "{\"policy\":\"five\",\"key\":\"v\",\"key\":\"w\"}", 400, "body"),
                Arguments.of("missing key", "{\"policy\":\"five\"}", 400, "key"),
                Arguments.of("null key", "{\"policy\":\"five\",\"key\":null}", 400, "key"),
                Arguments.of("empty key", "{\"policy\":\"five\",\"key\":\"\"}", 400, "key"),
                Arguments.of("key not a string", "{\"policy\":\"five\",\"key\":7}", 400, "key"),
                Arguments.of("257-byte key", "{\"policy\":\"five\",\"key\":\"" + longKey + "\"}", 400, "key"),
                Arguments.of(
                        "129 two-byte chars", "{\"policy\":\"five\",\"key\":\"" + "é".repeat(129) + "\"}", 400, "key"),
                Arguments.of("unpaired surrogate", "{\"policy\":\"five\",\"key\":\"\\ud800\"}", 400, "key"),
                Arguments.of("missing policy", "{\"key\":\"v\"}", 400, "policy"),
                Arguments.of("policy not a string", "{\"policy\":1,\"key\":\"v\"}", 400, "policy"),
                Arguments.of("cost 0", "{\"policy\":\"five\",\"key\":\"v\",\"cost\":0}", 400, "cost"),
                Arguments.of("negative cost", "{\"policy\":\"five\",\"key\":\"v\",\"cost\":-3}", 400, "cost"),
                Arguments.of("cost above burst", "{\"policy\":\"five\",\"key\":\"v\",\"cost\":6}", 400, "cost"),
                Arguments.of("fractional cost", "{\"policy\":\"five\",\"key\":\"v\",\"cost\":1.5}", 400, "cost"),
                Arguments.of("string cost", "{\"policy\":\"five\",\"key\":\"v\",\"cost\":\"1\"}", 400, "cost"),
                Arguments.of(
                        "huge cost",
                        "{\"policy\":\"five\",\"key\":\"v\",\"cost\":123456789012345678901234}",
                        400,
                        "cost"),
                Arguments.of("unknown policy", "{\"policy\":\"nope\",\"key\":\"v\"}", 404, "policy"),
                Arguments.of("checks not an array", "{\"checks\":5}", 400, "checks"),
                Arguments.of("no checks", "{\"checks\":[]}", 400, "checks"),
                Arguments.of("a check not an object", "{\"checks\":[1]}", 400, "checks[0]"),
                Arguments.of(
                        "second check without key",
                        "{\"checks\":[{\"policy\":\"five\",\"key\":\"v\"},{\"policy\":\"five\"}]}",
                        400,
                        "checks[1].key"),
                Arguments.of(
                        "checks and a single check",
                        "{\"checks\":[{\"policy\":\"five\",\"key\":\"v\"}],\"policy\":\"five\"}",
                        400,
                        "body"),
                Arguments.of(
                        "17 checks",
                        "{\"checks\":[" + "{\"policy\":\"five\",\"key\":\"v\"},".repeat(16)
                                + "{\"policy\":\"five\",\"key\":\"v\"}]}",
                        400,
                        "checks"),
                Arguments.of(
                        "unknown policy in a list",
                        "{\"checks\":[{\"policy\":\"five\",\"key\":\"v\"},{\"policy\":\"nope\",\"key\":\"v\"}]}",
                        404,
                        "checks[1].policy"),
                Arguments.of("bad tier", "{\"policy\":\"five\",\"key\":\"v\",\"tier\":\"Gold\"}", 400, "tier"),
                Arguments.of(
                        "nested 1,200 deep",
                        "{\"policy\":\"five\",\"key\":" + "[".repeat(1200) + "]".repeat(1200) + "}",
                        400,
                        "body"),
                Arguments.of(
                        "an unknown field nested 40 deep",
                        "{\"policy\":\"five\",\"key\":\"v\",\"x\":" + "[".repeat(40) + "]".repeat(40) + "}",
                        400,
                        "body"),
                Arguments.of(
                        "a 70 KiB body",
                        "{\"policy\":\"five\",\"key\":\"v\",\"x\":\"" + "a".repeat(70 * 1024) + "\"}",
                        413,
                        "body"),
                Arguments.of(
                        "request facts not an object",
                        "{\"policy\":\"five\",\"key\":\"v\",\"request\":\"x\"}",
                        400,
                        "request"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputIsAProblemNamingTheFieldConsumesNothingAndNeverReachesRedis(
            String name, String body, int status, String field) {
        String key = "v";
        cluster.masters().forEach(m -> Resp.call(m.port(), "CONFIG", "RESETSTAT"));
        HttpResponse<String> r = ServiceNode.post(base, "/v1/check", body.replace("\"v\"", "\"" + key + "\""));
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.body()).contains("\"status\":" + status, "\"invalid-params\":[{\"name\":\"" + field + "\"");
        assertThat(r.body()).as("no parser internals leak into the message").doesNotContain("Source:", "REDACTED");
        for (RedisNode master : cluster.masters()) {
            String stats = Resp.text(master.port(), "INFO", "commandstats");
            assertThat(stats)
                    .as("Redis on %d saw no script call", master.port())
                    .doesNotContain("cmdstat_evalsha", "cmdstat_eval:");
        }
    }

    @Test
    void aBadKeyInTheUrlIsAProblemToo() {
        HttpResponse<String> r = ServiceNode.get(base, "/v1/limits/five/" + "k".repeat(257));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("\"name\":\"key\"");
        assertThat(ServiceNode.get(base, "/v1/limits/nope/k").statusCode()).isEqualTo(404);
    }

    /**
     * An oversized request head, sent up to three times: the server answers and closes the
     * connection as soon as the head is too long, and the kernel resets a connection closed with
     * the rest of the request unread — which can reach the client before the answer does (CI saw
     * "header parser received no bytes" once). Every answer that arrives is asserted.
     */
    private static HttpResponse<String> sendOversized(HttpRequest request) {
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return ServiceNode.send(request);
            } catch (IllegalStateException e) {
                if (!(e.getCause() instanceof java.io.IOException)) {
                    throw e;
                }
                System.out.println("oversized request head, attempt " + attempt + ": " + e.getCause());
                last = e;
            }
        }
        throw last;
    }

    @Test
    void headersOrARequestLineTooLargeAre431And414ProblemJson() {
        String body = "{\"policy\":\"five\",\"key\":\"" + key() + "\"}";
        HttpResponse<String> headers = sendOversized(HttpRequest.newBuilder(URI.create(base + "/v1/check"))
                .header("Content-Type", "application/json")
                .header("X-Padding", "a".repeat(20_000))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
        assertThat(headers.statusCode()).isEqualTo(431);
        assertThat(headers.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(headers.body()).contains("\"status\":431", "\"name\":\"headers\"");
        HttpResponse<String> uri =
                sendOversized(HttpRequest.newBuilder(URI.create(base + "/v1/check?pad=" + "a".repeat(20_000)))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build());
        assertThat(uri.statusCode()).isEqualTo(414);
        assertThat(uri.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(uri.body()).contains("\"status\":414", "\"name\":\"uri\"");
    }

    @Test
    void frameworkErrorsAreProblemJsonToo() {
        HttpResponse<String> notFound = ServiceNode.get(base, "/v1/nothing-here");
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(notFound.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        HttpResponse<String> wrongMethod = ServiceNode.send(HttpRequest.newBuilder(URI.create(base + "/v1/check"))
                .PUT(HttpRequest.BodyPublishers.ofString("{}"))
                .build());
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }

    @Test
    void aFixedWindowPolicyAnswersWithTheSameContract() {
        String key = key();
        for (int i = 3; i > 0; i--) {
            HttpResponse<String> r = check("window", key, 1);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("RateLimit-Remaining")).hasValue(Integer.toString(i - 1));
        }
        HttpResponse<String> denied = check("window", key, 1);
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.body()).contains("\"violated-policies\":[\"window\"]");
        assertThat(denied.headers().firstValue("RateLimit-Policy")).hasValue("\"window\";q=3;w=3600");
        long retry = num(denied.body(), "retryAfterSeconds");
        assertThat(retry).isBetween(1L, 3600L);
        assertThat(num(denied.body(), "resetSeconds")).isEqualTo(retry);
    }

    @Test
    void pingIsCheap() {
        HttpResponse<String> r = ServiceNode.get(base, "/v1/ping");
        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void theApiIsDescribedInOpenApi() {
        HttpResponse<String> r = ServiceNode.get(base, "/swagger/sluice-0.1.yml");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body())
                .startsWith("openapi: 3.")
                .contains(
                        "/v1/check:",
                        "/v1/limits/{policy}/{key}:",
                        "/admin/plans:",
                        "/admin/keys/{id}/rotate:",
                        "/admin/keys/{id}/overrides:",
                        "/admin/keys/{id}/reset:",
                        "/admin/usage:",
                        "/admin/violations:",
                        "admin-token:");
    }
}
