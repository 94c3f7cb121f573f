package dev.sluice.api;

import static dev.sluice.ServiceNode.num;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.store.Subject;
import dev.sluice.store.redis.KeyScheme;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.lettuce.core.cluster.SlotHash;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several limits per check, concurrency leases, scopes, tiers and fair-use reservation, over real
 * HTTP on a node backed by the Redis Cluster.
 */
@ExtendWith(RedisServersExtension.class)
class ChecksIT {
    private static final KeyScheme KEYS = new KeyScheme("sl:");
    private static RedisCluster cluster;
    private static ServiceNode node;
    private static String base;

    @BeforeAll
    static void start() {
        cluster = RedisServers.cluster();
        Map<String, Object> p = new HashMap<>();
        p.put("redis.uris", cluster.uris());
        // these tests count every unit under 24-way concurrency on a cold JVM; a check that overran
        // the default 10 ms budget would be decided by its failure mode while Redis still ran it
        // (FailureModesIT and LocalModeIT cover the budget)
        p.put("limiter.redis.command-timeout", "1s");
        p.put("limiter.trusted-proxies", List.of("10.0.0.0/8"));
        policy(p, "tight", "token-bucket", 30, "1h");
        policy(p, "wide", "token-bucket", 50, "1h");
        policy(p, "two", "fixed-window", 2, "1h");
        policy(p, "log", "sliding-window-log", 100, "1h");
        p.put("limiter.policies.jobs.algorithm", "concurrency");
        p.put("limiter.policies.jobs.limit", 2);
        p.put("limiter.policies.jobs.lease-ttl", "30s");
        policy(p, "per-ip", "sliding-window-counter", 3, "1h");
        p.put("limiter.policies.per-ip.scope", "ip");
        policy(p, "per-route", "fixed-window", 2, "1h");
        p.put("limiter.policies.per-route.scope", "endpoint");
        p.put("limiter.policies.per-route.routes", List.of("/users/{id}"));
        policy(p, "plans", "token-bucket", 2, "1h");
        p.put("limiter.policies.plans.tiers", Map.of("free", "2/1h", "paid", "5/1h"));
        policy(p, "fleet", "token-bucket", 100, "1h");
        p.put("limiter.policies.fleet.scope", "global");
        p.put("limiter.policies.fleet.reserve", Map.of("paid", "20%"));
        node = ServiceNode.start(p);
        base = node.url();
    }

    private static void policy(Map<String, Object> p, String name, String algorithm, long limit, String period) {
        p.put("limiter.policies." + name + ".algorithm", algorithm);
        p.put("limiter.policies." + name + ".limit", limit);
        p.put("limiter.policies." + name + ".period", period);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static HttpResponse<String> post(String body) {
        return ServiceNode.post(base, "/v1/check", body);
    }

    private static String one(String policy, String key, long cost) {
        return "{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\",\"cost\":" + cost + "}";
    }

    private static String multi(String... checks) {
        return "{\"checks\":[" + String.join(",", checks) + "]}";
    }

    private static long remaining(String policy, String key) {
        HttpResponse<String> r = ServiceNode.get(base, "/v1/limits/" + policy + "/" + key);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return num(r.body(), "remaining");
    }

    /** Two keys whose subjects live on different masters of the cluster. */
    private static String[] keysOnTwoShards(String policyA, String policyB) {
        String a = "a-" + UUID.randomUUID();
        int portA = cluster.masterPortForSlot(SlotHash.getSlot(KEYS.key(new Subject(policyA, a), "tb")));
        while (true) {
            String b = "b-" + UUID.randomUUID();
            int portB = cluster.masterPortForSlot(SlotHash.getSlot(KEYS.key(new Subject(policyB, b), "tb")));
            if (portB != portA) {
                return new String[] {a, b};
            }
        }
    }

    @Test
    void aKeyInAPathIsDecodedAsRfc3986SaysAPlusIsAPlusAndSubDelimitersNeedNoEscape() {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String plus = "a+b;c=(d)!&" + id; // sub-delimiters, legal in a path segment as they are
        assertThat(post(one("tight", plus, 3)).statusCode()).isEqualTo(200);
        // the same subject, sent as it is and escaped
        assertThat(remaining("tight", plus)).isEqualTo(27);
        assertThat(remaining("tight", "a%2Bb%3Bc%3D%28d%29%21%26" + id)).isEqualTo(27);
        // not "a b...": the framework decoded a path's + as a form's space (and before that, a key
        // holding + ; ( ) ! & was a 404)
        assertThat(remaining("tight", "a%20b;c=(d)!&" + id)).isEqualTo(30);
        HttpResponse<String> reset =
                ServiceNode.send(HttpRequest.newBuilder(URI.create(base + "/v1/limits/tight/" + plus))
                        .DELETE()
                        .build());
        assertThat(reset.statusCode()).as(reset.body()).isEqualTo(204);
        assertThat(remaining("tight", plus)).isEqualTo(30);
    }

    @Test
    void aPathEscapeThatIsNotUtf8IsA400NamingItsVariableAndDecidesNothing() {
        // %FF and %FE were both decoded to U+FFFD: one subject for two keys
        for (String key : List.of("%FF", "%FE", "%C0%AF", "a%E2%82")) {
            HttpResponse<String> r = ServiceNode.get(base, "/v1/limits/tight/" + key);
            assertThat(r.statusCode()).as(key + " → " + r.body()).isEqualTo(400);
            assertThat(r.body()).contains("\"name\":\"key\"", "percent-encoded UTF-8");
        }
        // an overlong sequence in a body spelled another key: C0 AF is '/', so "a\xC0\xAFb" was a/b
        String id = UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> overlong = ServiceNode.send(HttpRequest.newBuilder(URI.create(base + "/v1/check"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(
                        ("{\"policy\":\"tight\",\"key\":\"" + id + "a\u00c0\u00afb\"}")
                                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)))
                .build());
        assertThat(overlong.statusCode()).as(overlong.body()).isEqualTo(400);
        assertThat(overlong.body()).contains("\"name\":\"body\"", "must be UTF-8");
        assertThat(remaining("tight", id + "a%2Fb")).as("nothing consumed").isEqualTo(30);
        HttpResponse<String> policy = ServiceNode.get(base, "/v1/limits/%FFtight/k");
        assertThat(policy.statusCode()).isEqualTo(400);
        assertThat(policy.body()).contains("\"name\":\"policy\"");
    }

    @Test
    void aMultiCheckNamesEveryPolicyAndReportsTheMostRestrictive() {
        String[] k = keysOnTwoShards("two", "wide");
        HttpResponse<String> r = post(multi(one("two", k[0], 1), one("wide", k[1], 1)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"two\";q=2;w=3600, \"wide\";q=50;w=3600");
        assertThat(r.headers().firstValue("RateLimit").orElseThrow())
                .matches("\"two\";r=1;t=\\d+, \"wide\";r=49;t=\\d+");
        assertThat(r.headers().firstValue("RateLimit-Remaining")).hasValue("1");
        assertThat(r.headers().firstValue("RateLimit-Limit")).hasValue("2");
        assertThat(r.body()).contains("\"allowed\":true,\"checks\":[{\"allowed\":true,\"policy\":\"two\"");
    }

    @Test
    void whenOneCheckIsDeniedNoneIsConsumedAcrossShards() {
        String[] k = keysOnTwoShards("two", "log");
        assertThat(post(one("two", k[0], 2)).statusCode()).isEqualTo(200);
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = post(multi(one("log", k[1], 5), one("two", k[0], 1)));
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.body()).contains("\"violated-policies\":[\"two\"]", "\"refunded\":true");
            assertThat(r.headers().firstValue("RateLimit-Limit")).hasValue("2");
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
        }
        assertThat(remaining("log", k[1])).as("the log's units were given back").isEqualTo(100);
    }

    /**
     * Many concurrent multi-checks (tight + wide, on different shards) race single checks of wide:
     * afterwards every unit taken from each subject belongs to an admitted request. Nothing denied
     * leaked.
     */
    @Test
    void underConcurrencyEveryConsumedUnitBelongsToAnAdmittedRequest() throws Exception {
        String[] k = keysOnTwoShards("tight", "wide");
        String both = multi(one("tight", k[0], 1), one("wide", k[1], 1));
        String single = one("wide", k[1], 1);
        ExecutorService pool = Executors.newFixedThreadPool(24);
        List<Future<Integer>> multis = new ArrayList<>();
        List<Future<Integer>> singles = new ArrayList<>();
        try {
            for (int i = 0; i < 120; i++) {
                multis.add(pool.submit(() -> post(both).statusCode()));
                if (i % 2 == 0) {
                    singles.add(pool.submit(() -> post(single).statusCode()));
                }
            }
            long admittedMulti = count(multis, 200);
            long admittedSingle = count(singles, 200);
            assertThat(count(multis, 429) + admittedMulti).isEqualTo(120);
            long tightLeft = remaining("tight", k[0]);
            long wideLeft = remaining("wide", k[1]);
            System.out.printf(
                    "ChecksIT multi-limit race: 120 multi (tight 30/h + wide 50/h, two shards) and 60 single (wide):"
                            + " admitted %d multi, %d single; tight left %d, wide left %d%n",
                    admittedMulti, admittedSingle, tightLeft, wideLeft);
            assertThat(admittedMulti).isPositive().isLessThanOrEqualTo(30);
            assertThat(tightLeft).isEqualTo(30 - admittedMulti);
            assertThat(wideLeft).isEqualTo(50 - admittedMulti - admittedSingle);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long count(List<Future<Integer>> futures, int status) throws Exception {
        long n = 0;
        for (Future<Integer> f : futures) {
            if (f.get() == status) {
                n++;
            }
        }
        return n;
    }

    @Test
    void leasesAreTakenReleasedAndAnnouncedAsConcurrentRequests() {
        String key = "svc-" + UUID.randomUUID();
        HttpResponse<String> first = post(one("jobs", key, 1));
        HttpResponse<String> second = post(one("jobs", key, 1));
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("RateLimit-Policy")).hasValue("\"jobs\";q=2;qu=\"concurrent-requests\"");
        assertThat(first.body()).contains("\"expiresInSeconds\":30");
        HttpResponse<String> third = post(one("jobs", key, 1));
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
        String lease = lease(first.body());
        HttpResponse<String> released = delete("/v1/leases/" + lease);
        assertThat(released.statusCode()).isEqualTo(204);
        HttpResponse<String> again = delete("/v1/leases/" + lease);
        assertThat(again.statusCode()).isEqualTo(404);
        assertThat(again.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(post(one("jobs", key, 1)).statusCode()).isEqualTo(200);
        assertThat(delete("/v1/leases/not-a-lease").statusCode()).isEqualTo(400);
        assertThat(post(one("jobs", key, 2)).body()).contains("\"name\":\"cost\"");
        assertThat(lease(second.body())).isNotEqualTo(lease);
    }

    @Test
    void aLeaseTakenInADeniedMultiCheckIsReleased() {
        String key = "svc-" + UUID.randomUUID();
        String full = "u-" + UUID.randomUUID();
        post(one("two", full, 2));
        HttpResponse<String> r = post(multi(one("jobs", key, 1), one("two", full, 1)));
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.body()).doesNotContain("\"lease\"");
        assertThat(remaining("jobs", key)).isEqualTo(2);
    }

    private static String lease(String body) {
        Matcher m = Pattern.compile("\"lease\":\\{\"id\":\"([^\"]+)\"").matcher(body);
        assertThat(m.find()).as(body).isTrue();
        return m.group(1);
    }

    private static HttpResponse<String> delete(String path) {
        return ServiceNode.send(
                HttpRequest.newBuilder(URI.create(base + path)).DELETE().build());
    }

    private static String ipCheck(String remote, String xff) {
        return "{\"policy\":\"per-ip\",\"request\":{\"remote-address\":\"" + remote + "\""
                + (xff == null ? "" : ",\"x-forwarded-for\":\"" + xff + "\"") + "}}";
    }

    @Test
    void aClientCannotSpoofItsWayIntoAnotherBucket() {
        String victim = "198.51.100." + (1 + (int) (Math.random() * 200));
        // the victim, behind the trusted proxy, spends its allowance
        for (int i = 0; i < 3; i++) {
            assertThat(post(ipCheck("10.0.0.1", victim)).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> denied = post(ipCheck("10.0.0.1", victim));
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.body()).contains("\"key\":\"" + victim + "\"");
        // an attacker connecting directly, claiming to forward for some third address, is itself
        String attacker = "203.0.113." + (1 + (int) (Math.random() * 200));
        HttpResponse<String> direct = post(ipCheck(attacker, "192.0.2.99"));
        assertThat(direct.statusCode()).isEqualTo(200);
        assertThat(direct.body()).contains("\"key\":\"" + attacker + "\"");
        // through the proxy, a forged left-hand entry is ignored: the proxy saw the attacker
        HttpResponse<String> forged = post(ipCheck("10.0.0.1", "192.0.2.99, " + attacker));
        assertThat(forged.body()).contains("\"key\":\"" + attacker + "\"");
        // a key is refused where the policy derives it
        HttpResponse<String> withKey =
                post("{\"policy\":\"per-ip\",\"key\":\"x\",\"request\":{\"remote-address\":\"1.2.3.4\"}}");
        assertThat(withKey.statusCode()).isEqualTo(400);
        assertThat(withKey.body()).contains("\"name\":\"key\"");
        assertThat(post("{\"policy\":\"per-ip\"}").body()).contains("\"name\":\"request.remote-address\"");
    }

    @Test
    void endpointsShareABucketPerRouteTemplate() {
        String method = "M" + UUID.randomUUID().toString().substring(0, 8).replace("-", "");
        String body1 = "{\"policy\":\"per-route\",\"request\":{\"method\":\"" + method + "\",\"path\":\"/users/1\"}}";
        String body2 = "{\"policy\":\"per-route\",\"request\":{\"method\":\"" + method + "\",\"path\":\"/users/2\"}}";
        assertThat(post(body1).statusCode()).isEqualTo(200);
        HttpResponse<String> r = post(body2);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("/users/{id}");
        assertThat(post(body1).statusCode()).isEqualTo(429);
    }

    @Test
    void eachTierHasItsOwnLimit() {
        String free = "c-" + UUID.randomUUID();
        String paid = "c-" + UUID.randomUUID();
        int freeAdmitted = 0;
        int paidAdmitted = 0;
        for (int i = 0; i < 8; i++) {
            if (post("{\"policy\":\"plans\",\"key\":\"" + free + "\",\"tier\":\"free\"}")
                            .statusCode()
                    == 200) {
                freeAdmitted++;
            }
            HttpResponse<String> r = post("{\"policy\":\"plans\",\"key\":\"" + paid + "\",\"tier\":\"paid\"}");
            if (r.statusCode() == 200) {
                paidAdmitted++;
                assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"plans\";q=5;w=3600");
            }
        }
        assertThat(freeAdmitted).isEqualTo(2);
        assertThat(paidAdmitted).isEqualTo(5);
        HttpResponse<String> gold = post("{\"policy\":\"plans\",\"key\":\"x\",\"tier\":\"gold\"}");
        assertThat(gold.statusCode()).isEqualTo(400);
        assertThat(gold.body()).contains("\"name\":\"tier\"", "no tier 'gold' (tiers: free, paid)");
    }

    /**
     * Stripe's fleet-usage reservation: free traffic floods a global limit of 100/h while premium
     * traffic arrives at the same time. Premium still gets its reserved 20, free never more than the
     * 80 it may use, and the whole never more than 100.
     */
    @Test
    void freeTrafficFloodingTheGlobalLimitCannotSqueezeOutTheReservedTier() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(24);
        List<Future<Integer>> free = new ArrayList<>();
        List<Future<Integer>> paid = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                free.add(pool.submit(
                        () -> post("{\"policy\":\"fleet\",\"tier\":\"free\"}").statusCode()));
                if (i % 10 == 0) {
                    for (int j = 0; j < 3; j++) {
                        paid.add(pool.submit(() ->
                                post("{\"policy\":\"fleet\",\"tier\":\"paid\"}").statusCode()));
                    }
                }
            }
            long freeAdmitted = count(free, 200);
            long paidAdmitted = count(paid, 200);
            System.out.printf(
                    "ChecksIT fair use: global 100/h, paid reserves 20%%; 300 free and 90 paid checks at once:"
                            + " free admitted %d, paid admitted %d, total %d%n",
                    freeAdmitted, paidAdmitted, freeAdmitted + paidAdmitted);
            assertThat(freeAdmitted).isLessThanOrEqualTo(80);
            assertThat(paidAdmitted).isGreaterThanOrEqualTo(20);
            assertThat(freeAdmitted + paidAdmitted).isLessThanOrEqualTo(100);
            assertThat(count(free, 429) + freeAdmitted).isEqualTo(300);
        } finally {
            pool.shutdownNow();
        }
    }
}
