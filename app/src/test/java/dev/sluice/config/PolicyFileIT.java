package dev.sluice.config;

import static dev.sluice.ServiceNode.num;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Live policy files on two nodes sharing the Redis Cluster: a change is picked up without restart,
 * unchanged policies keep their state, an invalid file keeps the last good policies and is reported
 * in /health and in a metric. Prints how long a change took to reach both nodes.
 */
@ExtendWith(RedisServersExtension.class)
class PolicyFileIT {
    private static Path dir;
    private static Path file;
    private static final List<ServiceNode> NODES = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("sluice-policies");
        file = dir.resolve("policies.yml");
        write(policies(3, 10));
        for (int i = 0; i < 2; i++) {
            NODES.add(ServiceNode.start(
                    Map.of("redis.uris", RedisServers.cluster().uris(), "limiter.policy-file", file.toString())));
        }
    }

    @AfterAll
    static void stop() throws IOException {
        NODES.forEach(ServiceNode::close);
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    private static String policies(long apiLimit, long steadyLimit) {
        return """
                policies:
                  api:
                    algorithm: fixed-window
                    limit: %d
                    period: 1h
                  steady:
                    algorithm: fixed-window
                    limit: %d
                    period: 1h
                """.formatted(apiLimit, steadyLimit);
    }

    /** Written beside and moved into place, as config management tools do: never half a file. */
    private static void write(String text) throws IOException {
        Path tmp = dir.resolve("policies.yml.tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static HttpResponse<String> check(ServiceNode node, String policy, String key) {
        return ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\"}");
    }

    private static long limitSeenBy(ServiceNode node, String key) {
        HttpResponse<String> r = ServiceNode.get(node.url(), "/v1/limits/api/" + key);
        return r.statusCode() == 200 ? num(r.body(), "limit") : -r.statusCode();
    }

    /** Waits until every node sees {@code limit} for api; returns the ms it took. */
    private static long untilEveryNodeSees(long limit, String key) throws InterruptedException {
        long start = System.nanoTime();
        while (true) {
            if (NODES.stream().allMatch(n -> limitSeenBy(n, key) == limit)) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            assertThat(System.nanoTime() - start)
                    .as("the change reached every node in 10 s")
                    .isLessThan(10_000_000_000L);
            Thread.sleep(20);
        }
    }

    @Test
    void changesApplyWithoutRestartAndInvalidFilesKeepTheLastGoodPolicies() throws Exception {
        String key = "u-" + UUID.randomUUID();
        ServiceNode a = NODES.get(0);
        for (int i = 0; i < 3; i++) {
            assertThat(check(a, "api", key).statusCode()).isEqualTo(200);
            assertThat(check(a, "steady", key).statusCode()).isEqualTo(200);
        }
        assertThat(check(a, "api", key).statusCode()).isEqualTo(429);

        // raise api's limit: the next check uses it, and the count so far is kept
        write(policies(5, 10));
        long took = untilEveryNodeSees(5, key);
        System.out.printf("PolicyFileIT: a changed limit reached both nodes %d ms after the file was replaced%n", took);
        HttpResponse<String> after = check(NODES.get(1), "api", key);
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(num(after.body(), "remaining"))
                .as("3 used before the change, 1 now")
                .isEqualTo(1);
        assertThat(num(check(a, "steady", key).body(), "remaining"))
                .as("unchanged policy kept its state")
                .isEqualTo(6);

        // an invalid file: reported, and the last good policies stay
        write(policies(0, 10));
        long start = System.nanoTime();
        while (!health(a).contains("\"valid\":false")) {
            assertThat(System.nanoTime() - start).isLessThan(10_000_000_000L);
            Thread.sleep(20);
        }
        assertThat(health(a))
                .contains("policies.api.limit: must be at least 1 (was 0)")
                .contains("\"status\":\"UP\"");
        assertThat(ServiceNode.get(a.url(), "/prometheus").body())
                .contains("sluice_policy_file_valid 0.0")
                .containsPattern("sluice_policy_file_reloads_total\\{result=\"invalid\"} [1-9]");
        assertThat(limitSeenBy(a, key)).isEqualTo(5);
        assertThat(check(a, "api", key).statusCode())
                .as("last good limit 5: 5th unit")
                .isEqualTo(200);

        // fixed, and a policy removed from the file is gone
        write("policies:\n  api:\n    algorithm: fixed-window\n    limit: 7\n    period: 1h\n");
        untilEveryNodeSees(7, key);
        assertThat(health(a)).contains("\"valid\":true");
        assertThat(ServiceNode.get(a.url(), "/prometheus").body()).contains("sluice_policy_file_valid 1.0");
        assertThat(check(a, "steady", key).statusCode()).isEqualTo(404);
    }

    private static String health(ServiceNode node) {
        return ServiceNode.get(node.url(), "/health").body();
    }
}
