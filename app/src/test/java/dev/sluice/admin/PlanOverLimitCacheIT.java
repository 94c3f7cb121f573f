package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.RedisServersExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15 part 3 for checks by API key: a key hammered past its plan's rate, or past its daily
 * quota with its bucket full, is answered from node A's over-limit cache without a store call, with
 * the answers node B gives without the cache; the key's usage still counts every denial; a
 * reset of the key through B reaches A's cache.
 */
@ExtendWith(RedisServersExtension.class)
class PlanOverLimitCacheIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static ServiceNode a;
    private static ServiceNode b;

    @BeforeAll
    static void start() {
        String db = PlansDatabase.create("plan_cache_it");
        Map<String, Object> withCache = PlansDatabase.nodeProperties(db, TOKEN);
        withCache.put("limiter.over-limit-cache.max-keep", "1h"); // only an invalidation ends a kept denial
        a = ServiceNode.start(withCache);
        Map<String, Object> without = PlansDatabase.nodeProperties(db, TOKEN);
        without.put("limiter.over-limit-cache.enabled", false);
        b = ServiceNode.start(without);
    }

    @AfterAll
    static void stop() {
        for (ServiceNode n : new ServiceNode[] {a, b}) {
            if (n != null) {
                n.close();
            }
        }
    }

    private record Key(String id, String secret, String account) {}

    private static String text(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return m.group(1);
    }

    private static void plan(String body) {
        assertThat(PlansDatabase.admin(a.url(), TOKEN, "POST", "/admin/plans", body)
                        .statusCode())
                .isEqualTo(201);
    }

    /** A key of {@code plan}, once both nodes resolve it. */
    private static Key issue(String plan) {
        String created = PlansDatabase.admin(a.url(), TOKEN, "POST", "/admin/keys", "{\"plan\":\"" + plan + "\"}")
                .body();
        Key k = new Key(text(created, "id"), text(created, "key"), text(created, "account"));
        for (ServiceNode n : new ServiceNode[] {a, b}) {
            dev.sluice.plans.KeyDirectory directory = n.context().getBean(dev.sluice.plans.KeyDirectory.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> directory
                    .resolve(k.secret(), java.time.Instant.now())
                    .valid());
        }
        return k;
    }

    private static HttpResponse<String> check(ServiceNode node, Key k) {
        return ServiceNode.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/check"))
                .header("X-Api-Key", k.secret())
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
    }

    /** {@code n} checks of {@code k} on A, each denied by its cache: no store call among them. */
    private static HttpResponse<String> deniedFromTheCache(Key k, int n) {
        double storeCalls = a.metric("sluice_store_latency_seconds_count");
        double hits = a.metric("sluice_over_limit_cache_hits_total");
        HttpResponse<String> last = null;
        for (int i = 0; i < n; i++) {
            last = check(a, k);
            assertThat(last.statusCode()).as(last.body()).isEqualTo(429);
        }
        assertThat(a.metric("sluice_store_latency_seconds_count") - storeCalls)
                .as("store calls for %d denials of a key over its limit", n)
                .isZero();
        assertThat(a.metric("sluice_over_limit_cache_hits_total") - hits).isEqualTo(n);
        return last;
    }

    @Test
    void aKeyHammeredPastItsRateCostsNoStoreCallAndIsAnsweredAlike() {
        plan("{\"name\":\"hammered\",\"limit\":3,\"period\":\"1h\",\"dailyQuota\":1000,\"monthlyQuota\":10000}");
        Key ka = issue("hammered");
        Key kb = issue("hammered");
        List<String> mismatches = new ArrayList<>();
        int admittedA = 0;
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> ra = check(a, ka);
            HttpResponse<String> rb = check(b, kb);
            admittedA += ra.statusCode() == 200 ? 1 : 0;
            String ta = ServiceNode.timeless(ra, ka.account());
            String tb = ServiceNode.timeless(rb, kb.account());
            if (!ta.equals(tb)) {
                mismatches.add("#" + i + ":\n  A " + ta + "\n  B " + tb);
            }
        }
        assertThat(mismatches).isEmpty();
        assertThat(admittedA).isEqualTo(3);
        HttpResponse<String> cached = deniedFromTheCache(ka, 50);
        assertThat(cached.body()).contains("\"violated-policies\":[\"rate\"]");
        assertThat(cached.headers().firstValue("RateLimit-Policy").orElseThrow())
                .contains("\"rate\";q=3", "\"daily\";q=1000", "\"monthly\";q=10000");

        // every denial is counted in the key's usage, cached or not: 17 in lockstep, then 50
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String u = PlansDatabase.admin(a.url(), TOKEN, "GET", "/admin/usage?key=" + ka.id(), null)
                    .body();
            assertThat(ServiceNode.num(u, "admitted")).as(u).isEqualTo(3);
            assertThat(ServiceNode.num(u, "denied")).as(u).isEqualTo(17 + 50);
        });
    }

    @Test
    void aSpentQuotaIsKeptWhileItsBucketIsFullAndAResetThroughAnotherNodeEndsIt() throws InterruptedException {
        plan("{\"name\":\"quota3\",\"limit\":1000,\"period\":\"1m\",\"dailyQuota\":3}");
        Key k = issue("quota3");
        for (int i = 0; i < 3; i++) {
            assertThat(check(a, k).statusCode()).isEqualTo(200);
        }
        Thread.sleep(400); // the 3 units taken from the bucket refill (1,000 a minute)
        HttpResponse<String> first = check(a, k);
        assertThat(first.statusCode()).isEqualTo(429);
        assertThat(first.body()).contains("\"violated-policies\":[\"daily\"]");
        HttpResponse<String> cached = deniedFromTheCache(k, 20);
        assertThat(ServiceNode.timeless(cached, k.account())).isEqualTo(ServiceNode.timeless(first, k.account()));

        long t0 = System.nanoTime();
        assertThat(PlansDatabase.admin(b.url(), TOKEN, "POST", "/admin/keys/" + k.id() + "/reset", null)
                        .statusCode())
                .isEqualTo(200);
        await().atMost(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> check(a, k).statusCode() == 200);
        System.out.printf(
                "PlanOverLimitCacheIT: a key's reset through node B reached node A's cache within %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * An override that raises the key's burst is another shape: A's kept denial no longer answers
     * once A knows it. (A higher rate alone would not admit: the bucket's debt is kept as time, an
     * hour of it is every token of 5 an hour too — the store denies as well.)
     */
    @Test
    void anOverrideMadeThroughAnotherNodeEndsAKeptDenial() {
        plan("{\"name\":\"boosted\",\"limit\":2,\"period\":\"1h\"}");
        Key k = issue("boosted");
        for (int i = 0; i < 2; i++) {
            assertThat(check(a, k).statusCode()).isEqualTo(200);
        }
        assertThat(check(a, k).statusCode()).isEqualTo(429);
        deniedFromTheCache(k, 5);

        long t0 = System.nanoTime();
        HttpResponse<String> override = PlansDatabase.admin(
                b.url(),
                TOKEN,
                "POST",
                "/admin/keys/" + k.id() + "/overrides",
                "{\"for\":\"1h\",\"limit\":5,\"burst\":10}");
        assertThat(override.statusCode()).as(override.body()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> check(a, k).statusCode() == 200);
        System.out.printf(
                "PlanOverLimitCacheIT: an override made through node B ended node A's kept denial within %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
    }
}
