package dev.sluice.limiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15 part 3: the node-local cache of over-limit subjects, on the Redis Cluster. Node A keeps
 * denials, node B does not, node C keeps them too. The same checks on A and on B (each on a subject
 * of its own, in lockstep) get the same answers; A's denials of a subject over its limit cost no
 * store call; a reset on C reaches A's cache through the reset broadcast.
 */
@ExtendWith(RedisServersExtension.class)
class OverLimitCacheIT {
    private static final List<String> ALGORITHMS =
            List.of("token-bucket", "gcra", "fixed-window", "sliding-window-counter", "sliding-window-log");
    private static final int LIMIT = 5;
    private static ServiceNode a;
    private static ServiceNode b;
    private static ServiceNode c;

    private static Map<String, Object> properties(boolean cache) {
        Map<String, Object> p = new HashMap<>();
        p.put("redis.uris", RedisServers.cluster().uris());
        p.put("limiter.over-limit-cache.enabled", cache);
        for (String algorithm : ALGORITHMS) {
            p.put("limiter.policies." + algorithm + ".algorithm", algorithm);
            p.put("limiter.policies." + algorithm + ".limit", LIMIT);
            p.put("limiter.policies." + algorithm + ".period", "1h");
        }
        return p;
    }

    @BeforeAll
    static void start() {
        a = ServiceNode.start(properties(true));
        b = ServiceNode.start(properties(false));
        c = ServiceNode.start(properties(true));
    }

    @AfterAll
    static void stop() {
        for (ServiceNode n : new ServiceNode[] {a, b, c}) {
            if (n != null) {
                n.close();
            }
        }
    }

    private static HttpResponse<String> check(ServiceNode node, String policy, String key) {
        return ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\"}");
    }

    private static double metric(ServiceNode node, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$")
                .matcher(ServiceNode.get(node.url(), "/prometheus").body());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum;
    }

    /** The answer without what depends on the moment it was given (and on the subject's name). */
    private static String timeless(HttpResponse<String> r, String key) {
        String body = r.body()
                .replace(key, "<key>")
                .replaceAll("\"resetSeconds\":\\d+", "\"resetSeconds\":_")
                .replaceAll("\"retryAfterSeconds\":\\d+", "\"retryAfterSeconds\":_")
                .replaceAll("retry after \\d+ s", "retry after _ s");
        String headers = r.headers().map().entrySet().stream()
                .filter(e -> !e.getKey().equalsIgnoreCase("date") && !e.getKey().equalsIgnoreCase("content-length"))
                .map(e -> e.getKey().toLowerCase(java.util.Locale.ROOT) + ": "
                        + String.join(",", e.getValue())
                                .replaceAll("t=\\d+", "t=_")
                                .replaceAll("^\\d+$", "_"))
                .sorted()
                .toList()
                .toString();
        return r.statusCode() + " " + headers + " " + body;
    }

    private static long field(HttpResponse<String> r, String name) {
        return ServiceNode.num(r.body(), name);
    }

    @Test
    void answersAreTheSameWithAndWithoutTheCacheAndCachedDenialsCostNoStoreCall() {
        List<String> mismatches = new ArrayList<>();
        for (String policy : ALGORITHMS) {
            String ka = "cached-" + System.nanoTime();
            String kb = "plain-" + System.nanoTime();
            int admittedA = 0;
            int admittedB = 0;
            String firstReset = null;
            for (int i = 0; i < 30; i++) {
                HttpResponse<String> ra = check(a, policy, ka);
                HttpResponse<String> rb = check(b, policy, kb);
                if (ra.statusCode() == 429 && policy.equals("fixed-window")) {
                    // a window's end is one instant: the store's first denial and every cached one name it
                    String reset = ra.headers().firstValue("X-RateLimit-Reset").orElseThrow();
                    firstReset = firstReset == null ? reset : firstReset;
                    if (!reset.equals(firstReset)) {
                        mismatches.add(
                                policy + " #" + i + " X-RateLimit-Reset " + reset + ", first denial " + firstReset);
                    }
                }
                admittedA += ra.statusCode() == 200 ? 1 : 0;
                admittedB += rb.statusCode() == 200 ? 1 : 0;
                if (!timeless(ra, ka).equals(timeless(rb, kb))) {
                    mismatches.add(policy + " #" + i + ":\n  A " + timeless(ra, ka) + "\n  B " + timeless(rb, kb));
                }
                // the clock-derived fields agree within the rounding to whole seconds
                for (String f : List.of("resetSeconds", "retryAfterSeconds")) {
                    if (Math.abs(field(ra, f) - field(rb, f)) > 1) {
                        mismatches.add(policy + " #" + i + " " + f + ": " + ra.body() + " vs " + rb.body());
                    }
                }
            }
            assertThat(admittedA).as(policy).isEqualTo(LIMIT);
            assertThat(admittedB).as(policy).isEqualTo(LIMIT);

            // over its limit: denied from the cache, no store round trip
            double storeCalls = metric(a, "sluice_store_latency_seconds_count");
            double hits = metric(a, "sluice_over_limit_cache_hits_total");
            for (int i = 0; i < 50; i++) {
                assertThat(check(a, policy, ka).statusCode()).isEqualTo(429);
            }
            assertThat(metric(a, "sluice_store_latency_seconds_count") - storeCalls)
                    .as(policy + ": store calls for 50 denials of a subject over its limit")
                    .isZero();
            assertThat(metric(a, "sluice_over_limit_cache_hits_total") - hits).isEqualTo(50);
        }
        assertThat(mismatches).isEmpty();
    }

    @Test
    void aResetOnAnyNodeEndsTheCachedDenialEverywhere() {
        for (String policy : ALGORITHMS) {
            String key = "reset-" + System.nanoTime();
            for (int i = 0; i < LIMIT; i++) {
                assertThat(check(a, policy, key).statusCode()).isEqualTo(200);
            }
            assertThat(check(a, policy, key).statusCode()).isEqualTo(429);
            assertThat(check(a, policy, key).body()).contains("\"degraded\":false"); // kept by now
            // reset through node C: A hears it on the reset channel
            long t0 = System.nanoTime();
            HttpResponse<String> reset =
                    ServiceNode.send(HttpRequest.newBuilder(URI.create(c.url() + "/v1/limits/" + policy + "/" + key))
                            .DELETE()
                            .build());
            assertThat(reset.statusCode()).isEqualTo(204);
            await().atMost(Duration.ofSeconds(2))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> check(a, policy, key).statusCode() == 200);
            System.out.printf(
                    "OverLimitCacheIT %s: a reset on node C reached node A's cache within %d ms%n",
                    policy, (System.nanoTime() - t0) / 1_000_000);
            // reset on the node itself: admitted at once
            for (int i = 0; i < LIMIT; i++) {
                check(a, policy, key);
            }
            assertThat(check(a, policy, key).statusCode()).isEqualTo(429);
            ServiceNode.send(HttpRequest.newBuilder(URI.create(a.url() + "/v1/limits/" + policy + "/" + key))
                    .DELETE()
                    .build());
            assertThat(check(a, policy, key).statusCode()).isEqualTo(200);
        }
    }
}
