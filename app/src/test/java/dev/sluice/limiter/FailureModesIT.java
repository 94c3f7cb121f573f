package dev.sluice.limiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.RedisNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What each policy's {@code on-store-failure} mode answers while its Redis is down, and that
 * decisions are shared again once Redis is back. (Issue 4 adds the breaker, the time budget and
 * the reconciled local mode; this pins the behaviour the decision core has today.)
 */
class FailureModesIT {
    private static RedisNode redis;
    private static ServiceNode node;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-failure-"), List.of());
        node = ServiceNode.start(Map.ofEntries(
                Map.entry("redis.uri", redis.uri()),
                // off by default; here so that a stall past Lettuce's backstop is settled (below)
                Map.entry("limiter.redis.late-answer-timeout", "30s"),
                Map.entry("limiter.policies.reads.limit", 3),
                Map.entry("limiter.policies.reads.period", "1h"),
                Map.entry("limiter.policies.reads.on-store-failure", "open"),
                Map.entry("limiter.policies.login.limit", 3),
                Map.entry("limiter.policies.login.period", "1h"),
                Map.entry("limiter.policies.login.on-store-failure", "closed"),
                Map.entry("limiter.policies.search.limit", 3),
                Map.entry("limiter.policies.search.period", "1h"),
                Map.entry("limiter.policies.search.on-store-failure", "local")));
    }

    @AfterAll
    static void stop() {
        node.close();
        redis.close();
    }

    private static HttpResponse<String> check(String policy, String key) {
        return ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\"}");
    }

    @Test
    void eachModeAnswersAsConfiguredWhileRedisIsDownAndRedisDecidesAgainAfter() {
        assertThat(check("reads", "k").body()).contains("\"degraded\":false");
        redis.kill();
        try {
            // open: admitted, degraded, however often
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = check("reads", "k");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("\"allowed\":true", "\"degraded\":true");
            }
            // closed: 503 problem+json, temporary reduced capacity, Retry-After
            HttpResponse<String> closed = check("login", "k");
            assertThat(closed.statusCode()).isEqualTo(503);
            assertThat(closed.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(closed.headers().firstValue("Retry-After")).isPresent();
            assertThat(closed.body())
                    .contains(
                            "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
                            "\"degraded\":true");
            // local: this node's in-process bucket holds the limit
            int admitted = 0;
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = check("search", "k");
                assertThat(r.body()).contains("\"degraded\":true");
                if (r.statusCode() == 200) {
                    admitted++;
                } else {
                    assertThat(r.statusCode()).isEqualTo(429);
                }
            }
            assertThat(admitted).isEqualTo(3);
            // a reset that cannot reach the store says so: 503, not 500
            HttpResponse<String> reset =
                    ServiceNode.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/limits/reads/k"))
                            .DELETE()
                            .build());
            assertThat(reset.statusCode()).isEqualTo(503);
            assertThat(reset.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        } finally {
            redis.restart();
        }
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(check("reads", "k").body()).contains("\"degraded\":false"));
    }

    private static double rejected() {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "sluice_store_breaker_rejected_total\\{store=\"redis\"} (\\S+)")
                .matcher(ServiceNode.get(node.url(), "/prometheus").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /**
     * Redis stops answering (CLIENT PAUSE): checks wait for the 10 ms command budget only until the
     * breaker has seen its minimum of failed calls; then it opens and checks stop waiting.
     */
    @Test
    void whileRedisHangsTheBreakerOpensAndChecksStopWaiting() {
        double rejectedBefore = rejected();
        redis.call("CLIENT", "PAUSE", "4000", "ALL");
        long paused = System.nanoTime();
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = check("reads", "hang-" + i);
            millis.add((System.nanoTime() - t0) / 1_000_000);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"degraded\":true");
        }
        long waited = millis.stream().filter(ms -> ms >= 9).count();
        String health = ServiceNode.get(node.url(), "/health").body();
        long skipped = Math.round(rejected() - rejectedBefore);
        System.out.printf(
                "FailureModesIT breaker: Redis paused; per-check ms: %s; %d took the 10 ms budget or more; %d never"
                        + " waited for Redis (breaker open)%n",
                millis, waited, skipped);
        // the breaker judges after its minimum of 10 calls, then lets through at most a round of 5
        // half-open probes per 500 ms open period: most of the 40 checks never reach Redis
        assertThat(skipped).as("checks that did not wait for Redis").isGreaterThanOrEqualTo(25);
        assertThat(health).contains("\"mode\":\"degraded\"");
        assertThat(ServiceNode.get(node.url(), "/health").body()).contains("\"storeBreaker\"");
        assertThat(ServiceNode.get(node.url(), "/prometheus").body())
                .containsPattern("sluice_store_breaker_transitions_total\\{store=\"redis\",to=\"open\"} [1-9]");
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(check("reads", "after").body()).contains("\"degraded\":false"));
        System.out.printf(
                "FailureModesIT breaker: decisions by Redis again %d ms after the 4 s pause began%n",
                (System.nanoTime() - paused) / 1_000_000);
    }

    /** Waits (up to 15 s) until a check is decided by Redis again. */
    private static void awaitStoreDecides() {
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(check("login", "warm").body()).contains("\"degraded\":false"));
    }

    private static double lateAnswers(String settled) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "sluice_store_late_answers_total\\{settled=\"" + settled + "\"} (\\S+)")
                .matcher(ServiceNode.get(node.url(), "/prometheus").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /**
     * A consume given up on while Redis hangs still runs there once Redis answers again. It is
     * counted once: given back for a fail-closed check (refused: nothing was admitted), kept for a
     * fail-open one (admitted: Redis counted what was admitted).
     */
    @Test
    void aConsumeAnsweredAfterItsCheckWasDecidedByItsModeIsCountedOnce() {
        awaitStoreDecides();
        double refundedBefore = lateAnswers("refunded");
        double keptBefore = lateAnswers("kept");
        redis.call("CLIENT", "PAUSE", "400", "ALL");
        HttpResponse<String> refused = check("login", "late-closed");
        HttpResponse<String> admitted = check("reads", "late-open");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(admitted.statusCode()).isEqualTo(200);
        assertThat(admitted.body()).contains("\"degraded\":true");
        // Redis runs both consumes when the pause ends; the refused one is given back
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(lateAnswers("refunded")).isEqualTo(refundedBefore + 1));
        assertThat(lateAnswers("kept")).isEqualTo(keptBefore + 1);
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(ServiceNode.get(node.url(), "/v1/limits/login/late-closed")
                                .body())
                        .contains("\"remaining\":3", "\"degraded\":false"));
        assertThat(ServiceNode.get(node.url(), "/v1/limits/reads/late-open").body())
                .contains("\"remaining\":2", "\"degraded\":false");
    }

    /**
     * A Redis stalled for longer than Lettuce's own command timeout (the wait cap + 500 ms, 1.5 s)
     * still runs the consumes written before the stall when it resumes. With {@code
     * limiter.redis.late-answer-timeout} (30 s here; off by default) Lettuce keeps script calls so
     * that their answers are settled: the
     * refused check's unit is given back, not charged for a 503 (before, the late call failed at
     * 1.5 s and the unit stayed taken).
     */
    @Test
    void aConsumeStalledPastLettucesOwnTimeoutIsStillGivenBack() {
        awaitStoreDecides();
        double refundedBefore = lateAnswers("refunded");
        redis.call("CLIENT", "PAUSE", "2500", "ALL");
        HttpResponse<String> refused = check("login", "stalled-closed");
        assertThat(refused.statusCode()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(lateAnswers("refunded")).isEqualTo(refundedBefore + 1));
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(ServiceNode.get(node.url(), "/v1/limits/login/stalled-closed")
                                .body())
                        .contains("\"remaining\":3", "\"degraded\":false"));
    }
}
