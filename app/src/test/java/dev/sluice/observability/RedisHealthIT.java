package dev.sluice.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.RedisNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * /health shows Redis UP, then DOWN once Redis stops, then UP again, while /health/readiness stays UP
 * (the node answers by its failure modes); /prometheus shows the meters.
 */
class RedisHealthIT {

    @Test
    void healthFollowsRedis() throws Exception {
        try (RedisNode redis =
                        RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-health-"), List.of());
                ServiceNode node = ServiceNode.start(Map.of("redis.uri", redis.uri()))) {
            HttpResponse<String> up = ServiceNode.get(node.url(), "/health");
            assertThat(up.statusCode()).isEqualTo(200);
            assertThat(up.body()).contains("\"redis\"").contains("\"status\":\"UP\"");

            redis.kill();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                HttpResponse<String> down = ServiceNode.get(node.url(), "/health");
                assertThat(down.statusCode()).isEqualTo(503);
                assertThat(down.body()).contains("\"status\":\"DOWN\"");
            });
            HttpResponse<String> ready = ServiceNode.get(node.url(), "/health/readiness");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(ready.body()).doesNotContain("\"redis\":{");
            assertThat(ServiceNode.get(node.url(), "/health/liveness").statusCode())
                    .isEqualTo(200);

            redis.restart();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                            ServiceNode.get(node.url(), "/health").statusCode())
                    .isEqualTo(200));
        }
    }

    /**
     * A Redis that takes connections and answers nothing (CLIENT PAUSE, as a stopped process): /health
     * answers DOWN within the PING's 2 s, not after micronaut-redis's 3 x 10 s (found black-box: 36 s
     * with Redis SIGSTOPped); /health/readiness stays UP.
     */
    @Test
    void healthAnswersPromptlyWhileRedisAnswersNothing() throws Exception {
        try (RedisNode redis =
                        RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-health-"), List.of());
                ServiceNode node = ServiceNode.start(Map.of("redis.uri", redis.uri()))) {
            assertThat(ServiceNode.get(node.url(), "/health").statusCode()).isEqualTo(200);
            redis.call("CLIENT", "PAUSE", "8000", "ALL");
            long started = System.nanoTime();
            HttpResponse<String> down = ServiceNode.get(node.url(), "/health");
            long millis = (System.nanoTime() - started) / 1_000_000;
            System.out.println("RedisHealthIT: /health with Redis paused answered " + down.statusCode() + " in "
                    + millis + " ms: " + down.body());
            assertThat(down.statusCode()).isEqualTo(503);
            // Lettuce's own command timeout (1.5 s here) or the PING's 2 s, whichever comes first
            assertThat(down.body()).matches("(?s).*\"redis\":\\{[^}]*\"status\":\"DOWN\".*");
            assertThat(millis).isLessThan(5_000);
            assertThat(ServiceNode.get(node.url(), "/health/readiness").statusCode())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                            ServiceNode.get(node.url(), "/health").statusCode())
                    .isEqualTo(200));
        }
    }

    @Test
    void prometheusShowsDecisionsAndStoreLatency() {
        try (ServiceNode node = ServiceNode.start(Map.of())) {
            ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"demo\",\"key\":\"m\"}");
            HttpResponse<String> metrics = ServiceNode.get(node.url(), "/prometheus");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body())
                    .contains("sluice_decisions_total{degraded=\"false\",outcome=\"allowed\",policy=\"demo\"} 1.0")
                    .contains("sluice_store_latency_seconds_bucket{result=\"ok\",store=\"in-process\"");
        }
    }

    /**
     * Lettuce's own per-command latency timers are off by default (sluice_store_latency times each
     * decision already) and come back with limiter.redis.command-latency-metrics.
     */
    @Test
    void lettuceCommandLatencyOnlyWhenAskedFor() throws Exception {
        try (RedisNode redis =
                RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-latency-"), List.of())) {
            for (boolean asked : new boolean[] {false, true}) {
                try (ServiceNode node = ServiceNode.start(Map.of(
                        "redis.uri", redis.uri(), "limiter.redis.command-latency-metrics", Boolean.toString(asked)))) {
                    assertThat(ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"demo\",\"key\":\"l\"}")
                                    .statusCode())
                            .isEqualTo(200);
                    String metrics = ServiceNode.get(node.url(), "/prometheus").body();
                    assertThat(metrics).contains("sluice_store_latency_seconds_bucket{result=\"ok\",store=\"redis\"");
                    if (asked) {
                        assertThat(metrics).contains("lettuce_command_completion_seconds");
                    } else {
                        assertThat(metrics).doesNotContain("lettuce_command");
                    }
                }
            }
        }
    }
}
