package dev.sluice.limiter;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code local} failure mode with two service nodes sharing one Redis: while Redis is down each
 * node holds its share (the limit divided by the two live nodes it counted by heartbeat), and when
 * Redis is back what both used is charged to Redis, by the subject's next check or by the sweep
 * that follows a heartbeat, so no subject leaves the outage with a fresh bucket.
 */
class LocalModeIT {
    private static RedisNode redis;
    private static ServiceNode a;
    private static ServiceNode b;

    @BeforeAll
    static void start() throws Exception {
        // append-only with fsync on every write: the state written before the crash is there after it
        redis = RedisNode.start(
                FreePorts.any(),
                Files.createTempDirectory("sluice-local-"),
                List.of("--appendonly", "yes", "--appendfsync", "always"));
        Map<String, Object> config = Map.ofEntries(
                Map.entry("redis.uri", redis.uri()),
                Map.entry("limiter.local.heartbeat", "200ms"),
                Map.entry("limiter.local.node-ttl", "1s"),
                Map.entry("limiter.policies.search.limit", 20),
                Map.entry("limiter.policies.search.period", "1h"),
                Map.entry("limiter.policies.search.on-store-failure", "local"));
        a = ServiceNode.start(config);
        b = ServiceNode.start(config);
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
        redis.close();
    }

    private static HttpResponse<String> check(ServiceNode node, String key) {
        return ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"search\",\"key\":\"" + key + "\"}");
    }

    private static int admitted(ServiceNode node, String key, int attempts) {
        int admitted = 0;
        for (int i = 0; i < attempts; i++) {
            HttpResponse<String> r = check(node, key);
            assertThat(r.body()).contains("\"degraded\":true");
            if (r.statusCode() == 200) {
                admitted++;
            } else {
                assertThat(r.statusCode()).isEqualTo(429);
            }
        }
        return admitted;
    }

    @Test
    void eachNodeHoldsItsShareAndWhatTheyUsedIsChargedToRedisAfter() {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(ServiceNode.get(a.url(), "/health").body()).contains("\"liveNodes\":2");
            assertThat(ServiceNode.get(b.url(), "/health").body()).contains("\"liveNodes\":2");
        });
        for (int i = 0; i < 2; i++) {
            assertThat(check(a, "k").body()).contains("\"allowed\":true", "\"degraded\":false");
        }
        for (int i = 0; i < 16; i++) {
            assertThat(check(a, "used").body()).contains("\"allowed\":true", "\"degraded\":false");
        }
        redis.kill();
        int byA;
        int byB;
        int quietByB;
        int usedByA;
        try {
            usedByA = admitted(a, "used", 5);
            byA = admitted(a, "k", 4);
            byB = admitted(b, "k", 12);
            quietByB = admitted(b, "quiet", 3);
        } finally {
            redis.restart();
        }
        // 20 / 2 live nodes = a share of 10 per node
        assertThat(byA).isEqualTo(4);
        assertThat(byB).as("node b's share of 20 between 2 nodes").isEqualTo(10);
        assertThat(quietByB).isEqualTo(3);
        // node a had seen Redis leave 4 of 20 for "used": its share of 10 starts at 4 * 10 / 20 = 2
        assertThat(usedByA)
                .as("a local share seeded from what Redis last said was left")
                .isEqualTo(2);

        // "k" is checked again on node a: a charges its own debt before deciding; node b charges its
        // share by the sweep after a heartbeat. 20 - 2 (before) - 4 - 10 (during) = 4 left.
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> {
                    assertThat(ServiceNode.get(a.url(), "/health").body()).contains("\"owedSubjects\":0");
                    assertThat(ServiceNode.get(b.url(), "/health").body()).contains("\"owedSubjects\":0");
                });
        HttpResponse<String> look = ServiceNode.get(a.url(), "/v1/limits/search/k");
        assertThat(look.body()).contains("\"degraded\":false");
        assertThat(ServiceNode.num(look.body(), "remaining")).isEqualTo(4);
        // "quiet" was never checked after the outage: the sweep charged it all the same
        HttpResponse<String> quiet = ServiceNode.get(a.url(), "/v1/limits/search/quiet");
        assertThat(quiet.body()).contains("\"degraded\":false");
        assertThat(ServiceNode.num(quiet.body(), "remaining")).isEqualTo(17);
        HttpResponse<String> used = ServiceNode.get(a.url(), "/v1/limits/search/used");
        assertThat(ServiceNode.num(used.body(), "remaining")).isEqualTo(2);
        assertThat(ServiceNode.get(b.url(), "/prometheus").body())
                .containsPattern("sluice_reconciled_units_total(\\{[^}]*})? 13\\.0");
    }
}
