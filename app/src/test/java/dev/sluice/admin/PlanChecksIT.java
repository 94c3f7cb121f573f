package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.plans.KeyDirectory;
import dev.sluice.testkit.RedisServersExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Checks by API key over HTTP, on the Redis Cluster and a real PostgreSQL: a plan and a key made
 * through the admin API; the daily quota spent under the per-minute rate; 429 naming the quota, with
 * every policy in RateLimit-Policy; unknown and revoked keys answered alike; a rotated key
 * continuing its account's quota.
 */
@ExtendWith(RedisServersExtension.class)
class PlanChecksIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static ServiceNode node;

    @BeforeAll
    static void start() {
        Map<String, Object> p = PlansDatabase.nodeProperties(PlansDatabase.create("plans_it"), TOKEN);
        node = ServiceNode.start(p);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static HttpResponse<String> admin(String path, String body) {
        return PlansDatabase.admin(node.url(), TOKEN, "POST", path, body);
    }

    private static HttpResponse<String> checkWithHeader(String apiKey) {
        return ServiceNode.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/check"))
                .header("X-Api-Key", apiKey)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return m.group(1);
    }

    private static String issue(String plan) {
        String key = field(admin("/admin/keys", "{\"plan\":\"" + plan + "\"}").body(), "key");
        KeyDirectory directory = node.context().getBean(KeyDirectory.class);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> directory.resolve(key, Instant.now()).valid());
        return key;
    }

    @Test
    void theDailyQuotaHoldsUnderTheRateAndBothAreNamed() {
        assertThat(admin(
                                "/admin/plans",
                                "{\"name\":\"trial\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":5,"
                                        + "\"monthlyQuota\":100}")
                        .statusCode())
                .isEqualTo(201);
        String key = issue("trial");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = checkWithHeader(key);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("RateLimit-Policy").orElseThrow())
                    .contains("\"rate\";q=600;w=60", "\"daily\";q=5;w=86400", "\"monthly\";q=100;w=");
        }
        HttpResponse<String> denied = checkWithHeader(key);
        assertThat(denied.statusCode()).as(denied.body()).isEqualTo(429);
        assertThat(denied.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(denied.body()).contains("daily");
        long retry = Long.parseLong(denied.headers().firstValue("Retry-After").orElseThrow());
        long toMidnight = Duration.between(
                        ZonedDateTime.now(ZoneOffset.UTC),
                        ZonedDateTime.now(ZoneOffset.UTC)
                                .toLocalDate()
                                .plusDays(1)
                                .atStartOfDay(ZoneOffset.UTC))
                .toSeconds();
        assertThat(retry).as("until the end of the UTC day").isBetween(toMidnight - 5, toMidnight + 90_000);
        // the denial took nothing from the rate bucket: 600 - 5 taken, plus what refilled since
        assertThat(ServiceNode.num(denied.body(), "remaining")).isBetween(595L, 600L);
        assertThat(denied.body()).contains("\"violated-policies\":[\"daily\"]");

        // the body field works as the header does; a policy with a key is refused
        assertThat(ServiceNode.post(node.url(), "/v1/check", "{\"apiKey\":\"" + key + "\"}")
                        .statusCode())
                .isEqualTo(429);
        HttpResponse<String> both =
                ServiceNode.post(node.url(), "/v1/check", "{\"apiKey\":\"" + key + "\",\"policy\":\"demo\"}");
        assertThat(both.statusCode()).isEqualTo(400);
        assertThat(both.body()).contains("\"name\":\"policy\"");
    }

    @Test
    void unknownAndRevokedKeysAreAnsweredAlike() {
        admin("/admin/plans", "{\"name\":\"gone\",\"limit\":10,\"period\":\"1m\"}");
        String key = issue("gone");
        assertThat(checkWithHeader(key).statusCode()).isEqualTo(200);
        String id = key.substring(3, key.indexOf('.'));
        admin("/admin/keys/" + id + "/revoke", "");
        KeyDirectory directory = node.context().getBean(KeyDirectory.class);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !directory.resolve(key, Instant.now()).valid());
        HttpResponse<String> revoked = checkWithHeader(key);
        HttpResponse<String> unknown = checkWithHeader("sk_AAAAAAAAAAAA.nothing");
        HttpResponse<String> garbage = checkWithHeader("hello");
        assertThat(revoked.statusCode()).isEqualTo(401);
        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(garbage.statusCode()).isEqualTo(401);
        assertThat(revoked.body()).isEqualTo(unknown.body()).isEqualTo(garbage.body());
        assertThat(revoked.body()).doesNotContain(id);
    }

    @Test
    void aRotatedKeyContinuesItsAccountsQuota() {
        admin("/admin/plans", "{\"name\":\"rot\",\"limit\":100,\"period\":\"1m\",\"dailyQuota\":3}");
        String old = issue("rot");
        assertThat(checkWithHeader(old).statusCode()).isEqualTo(200);
        assertThat(checkWithHeader(old).statusCode()).isEqualTo(200);
        String id = old.substring(3, old.indexOf('.'));
        String fresh = field(
                admin("/admin/keys/" + id + "/rotate", "{\"overlap\":\"1h\"}").body(), "key");
        KeyDirectory directory = node.context().getBean(KeyDirectory.class);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> directory.resolve(fresh, Instant.now()).valid());
        assertThat(checkWithHeader(fresh).statusCode()).isEqualTo(200);
        assertThat(checkWithHeader(fresh).statusCode())
                .as("3 of 3 used across both keys")
                .isEqualTo(429);
        assertThat(checkWithHeader(old).statusCode())
                .as("the old key, in its overlap, shares it")
                .isEqualTo(429);
    }

    @Test
    void overridesRaiseAQuotaAndBlockAKeyUntilTheyEnd() {
        admin("/admin/plans", "{\"name\":\"ovr\",\"limit\":100,\"period\":\"1m\",\"dailyQuota\":2}");
        String key = issue("ovr");
        String id = key.substring(3, key.indexOf('.'));
        KeyDirectory directory = node.context().getBean(KeyDirectory.class);
        assertThat(checkWithHeader(key).statusCode()).isEqualTo(200);
        assertThat(checkWithHeader(key).statusCode()).isEqualTo(200);
        assertThat(checkWithHeader(key).statusCode()).isEqualTo(429);

        for (String bad : new String[] {
            "{\"dailyQuota\":4}",
            "{\"for\":\"1h\"}",
            "{\"until\":\"2001-01-01T00:00:00Z\",\"blocked\":true}",
            "{\"for\":\"soon\",\"blocked\":true}",
            "{\"for\":\"1h\",\"blocked\":\"yes\"}"
        }) {
            HttpResponse<String> r = admin("/admin/keys/" + id + "/overrides", bad);
            assertThat(r.statusCode()).as(bad + " → " + r.body()).isEqualTo(400);
        }
        HttpResponse<String> raised =
                admin("/admin/keys/" + id + "/overrides", "{\"for\":\"1h\",\"dailyQuota\":4,\"reason\":\"launch\"}");
        assertThat(raised.statusCode()).as(raised.body()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> directory.resolve(key, Instant.now()).override() != null);
        assertThat(checkWithHeader(key).statusCode()).isEqualTo(200);
        HttpResponse<String> fourth = checkWithHeader(key);
        assertThat(fourth.statusCode()).isEqualTo(200);
        assertThat(fourth.headers().firstValue("RateLimit-Policy").orElseThrow())
                .contains("\"daily\";q=4");
        assertThat(checkWithHeader(key).statusCode()).isEqualTo(429);

        HttpResponse<String> block = admin("/admin/keys/" + id + "/overrides", "{\"for\":\"10m\",\"blocked\":true}");
        Matcher m = Pattern.compile("\"id\":(\\d+)").matcher(block.body());
        assertThat(m.find()).isTrue();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> directory.resolve(key, Instant.now()).override().blocked());
        HttpResponse<String> blocked = checkWithHeader(key);
        assertThat(blocked.statusCode()).isEqualTo(403);
        assertThat(blocked.body()).contains("key-blocked");
        HttpResponse<String> notAnId = PlansDatabase.admin(node.url(), TOKEN, "DELETE", "/admin/overrides/first", null);
        assertThat(notAnId.statusCode()).isEqualTo(400);
        assertThat(notAnId.body()).contains("\"name\":\"oid\"");
        assertThat(PlansDatabase.admin(node.url(), TOKEN, "DELETE", "/admin/overrides/" + m.group(1), null)
                        .statusCode())
                .isEqualTo(204);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !directory.resolve(key, Instant.now()).override().blocked());
        assertThat(checkWithHeader(key).statusCode())
                .as("the raised quota is in force again, and spent")
                .isEqualTo(429);
    }

    private static HttpResponse<String> adminGet(String path) {
        return PlansDatabase.admin(node.url(), TOKEN, "GET", path, null);
    }

    @Test
    void usageIsCountedPerMinuteAndAFloodOfDenialsKeepsOnlyASample() {
        admin("/admin/plans", "{\"name\":\"watched\",\"limit\":100,\"period\":\"1m\",\"dailyQuota\":3}");
        String key = issue("watched");
        String id = key.substring(3, key.indexOf('.'));
        String body = "{\"apiKey\":\"" + key + "\",\"request\":{\"remote-address\":\"203.0.113.9\"}}";
        int admitted = 0;
        int denied = 0;
        for (int i = 0; i < 23; i++) {
            int status = ServiceNode.post(node.url(), "/v1/check", body).statusCode();
            if (status == 200) {
                admitted++;
            } else {
                assertThat(status).isEqualTo(429);
                denied++;
            }
        }
        assertThat(admitted).isEqualTo(3);
        assertThat(denied).isEqualTo(20);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> usage = adminGet("/admin/usage?key=" + id);
            assertThat(usage.statusCode()).as(usage.body()).isEqualTo(200);
            assertThat(usage.body()).contains("\"admitted\":3", "\"denied\":20");
        });
        HttpResponse<String> log = adminGet("/admin/violations?key=" + id);
        assertThat(log.statusCode()).isEqualTo(200);
        long kept = Pattern.compile("\"policy\":\"daily\"")
                .matcher(log.body())
                .results()
                .count();
        // at most 5 per key and minute in full (10 if the checks straddled a minute), all 20 counted
        assertThat(kept).as("a sample of the 20 denials, in full").isBetween(1L, 10L);
        assertThat(log.body()).contains("\"clientAddress\":\"203.0.113.9\"", "\"key\":\"" + id + "\"");
        assertThat(adminGet("/admin/usage?plan=watched").body()).contains("\"admitted\":3");
        assertThat(adminGet("/admin/usage").statusCode()).isEqualTo(400);
        assertThat(adminGet("/admin/usage?key=" + id + "&from=yesterday").body())
                .contains("\"name\":\"from\"");
        assertThat(adminGet("/admin/violations?key=" + id + "&limit=0").body()).contains("\"name\":\"limit\"");
    }
}
