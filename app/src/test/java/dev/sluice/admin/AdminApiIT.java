package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The admin API over real HTTP against a real PostgreSQL (schema by Flyway) and the Redis Cluster:
 * authentication, plans CRUD, keys issued once and stored as hashes, revocation, rotation with an
 * overlap, bad input named, and 503 while the database is down.
 */
@ExtendWith(RedisServersExtension.class)
class AdminApiIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static PostgresServer pg;
    private static String url;
    private static ServiceNode node;

    @BeforeAll
    static void start() throws SQLException {
        pg = RedisServers.postgres();
        url = PlansDatabase.create("admin_it");
        Map<String, Object> p = PlansDatabase.nodeProperties(url, TOKEN);
        p.put("datasources.default.connection-timeout", 1000);
        node = ServiceNode.start(p);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static String url() {
        return url;
    }

    private static HttpResponse<String> call(String method, String path, String body, String token) {
        return ServiceNode.call(node.url(), method, path, body, token);
    }

    private static HttpResponse<String> admin(String method, String path, String body) {
        return call(method, path, body, TOKEN);
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        if (!m.find()) {
            throw new AssertionError(name + " not in " + json);
        }
        return m.group(1);
    }

    @Test
    void withoutTheAdminTokenNothingIsAnswered() {
        for (String token : new String[] {null, "wrong", TOKEN + "x"}) {
            HttpResponse<String> r = call("GET", "/admin/plans", null, token);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.headers().firstValue("WWW-Authenticate"))
                    .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            assertThat(r.body()).doesNotContain(TOKEN);
        }
    }

    @Test
    void plansAreCreatedReadChangedAndDeleted() {
        HttpResponse<String> created = admin(
                "POST",
                "/admin/plans",
                "{\"name\":\"free\",\"limit\":60,\"period\":\"1m\",\"dailyQuota\":1000,\"monthlyQuota\":20000,"
                        + "\"quotaTimeZone\":\"Europe/Paris\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.headers().firstValue("Location")).hasValue("/admin/plans/free");
        assertThat(created.body())
                .contains("\"limit\":60", "\"period\":\"1m\"", "\"burst\":60", "\"dailyQuota\":1000")
                .contains("\"quotaTimeZone\":\"Europe/Paris\"", "\"tier\":\"standard\"");
        assertThat(admin("POST", "/admin/plans", "{\"name\":\"free\",\"limit\":1,\"period\":\"1s\"}")
                        .statusCode())
                .isEqualTo(409);
        assertThat(admin("GET", "/admin/plans/free", null).body()).contains("\"name\":\"free\"");
        assertThat(admin("GET", "/admin/plans", null).body()).contains("\"name\":\"free\"");
        HttpResponse<String> changed =
                admin("PUT", "/admin/plans/free", "{\"limit\":120,\"period\":\"1m\",\"burst\":200,\"tier\":\"basic\"}");
        assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
        assertThat(changed.body()).contains("\"limit\":120", "\"burst\":200", "\"tier\":\"basic\"");
        assertThat(admin("GET", "/admin/plans/nope", null).statusCode()).isEqualTo(404);
        assertThat(admin("DELETE", "/admin/plans/free", null).statusCode()).isEqualTo(204);
        assertThat(admin("GET", "/admin/plans/free", null).statusCode()).isEqualTo(404);
    }

    @Test
    void badPlansAreRefusedNamingTheField() {
        String[][] cases = {
            {"{\"name\":\"Bad Name\",\"limit\":1,\"period\":\"1s\"}", "name"},
            {"{\"name\":\"a\",\"limit\":0,\"period\":\"1s\"}", "limit"},
            {"{\"name\":\"a\",\"limit\":1.5,\"period\":\"1s\"}", "limit"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"soon\"}", "period"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1s\",\"burst\":-1}", "burst"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1s\",\"dailyQuota\":\"x\"}", "dailyQuota"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1s\",\"dailyQuota\":10,\"monthlyQuota\":5}", "monthlyQuota"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1s\",\"quotaTimeZone\":\"Mars/Olympus\"}", "quotaTimeZone"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1s\",\"limt\":2}", "limt"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1d\",\"burst\":100000000}", "burst"},
            // past what a long counts in milliseconds (was a 500: long overflow)
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"999999999999d\"}", "period"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"9999999999999999s\"}", "period"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"PT9999999999999999S\"}", "period"},
            {"{\"name\":\"a\",\"limit\":1,\"period\":\"1s\",\"tier\":\"a\\u0000b\"}", "tier"},
            {"[1]", "body"},
            {"{", "body"},
            // a duplicate field is refused, as on /v1/check (was: the last one won)
            {"{\"name\":\"a\",\"limit\":1,\"limit\":1000,\"period\":\"1s\"}", "body"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = admin("POST", "/admin/plans", c[0]);
            assertThat(r.statusCode()).as(c[0] + " → " + r.body()).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.body()).as(c[0]).contains("\"name\":\"" + c[1] + "\"");
        }
        assertThat(admin("GET", "/admin/plans/a", null).statusCode()).isEqualTo(404);
    }

    /**
     * A NUL character, which PostgreSQL cannot store, is the caller's mistake: 400, never the 503
     * that says the database is down (it did, logging "the database cannot be reached").
     */
    @Test
    void aNulCharacterIsBadInputNotAnOutage() {
        admin("POST", "/admin/plans", "{\"name\":\"nul\",\"limit\":10,\"period\":\"1m\"}");
        String[][] cases = {
            {"POST", "/admin/keys", "{\"plan\":\"nul\",\"label\":\"a\\u0000b\"}", "label"},
            // refused before PostgreSQL is asked, naming the parameter (it answered "request" after the
            // database refused the statement)
            {"GET", "/admin/usage?key=%00", null, "key"},
            {"GET", "/admin/violations?key=a%00b", null, "key"},
            {"POST", "/admin/keys/a%01b/reset", null, "id"},
            {"GET", "/admin/plans/" + "p".repeat(300), null, "name"},
            {"POST", "/admin/keys/%00%ff/reset", null, "id"}, // %ff is not UTF-8: named before the database
            // a lone surrogate has no UTF-8 form: PostgreSQL stored it as '?'
            {"POST", "/admin/keys", "{\"plan\":\"nul\",\"label\":\"a\\ud800b\"}", "label"},
            {"GET", "/admin/keys/%00", null, "id"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = admin(c[0], c[1], c[2]);
            assertThat(r.statusCode()).as(c[0] + " " + c[1] + " → " + r.body()).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.body()).as(c[1]).contains("\"name\":\"" + c[3] + "\"");
        }
        // an overlong UTF-8 sequence (C0 80) spells NUL: the body is refused as not UTF-8
        HttpResponse<String> overlong =
                ServiceNode.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(node.url() + "/admin/keys"))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + TOKEN)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(
                                "{\"plan\":\"nul\",\"label\":\"a\u00c0\u0080b\"}"
                                        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)))
                        .build());
        assertThat(overlong.statusCode()).as(overlong.body()).isEqualTo(400);
        assertThat(overlong.body()).contains("\"name\":\"body\"", "must be UTF-8");
        assertThat(admin("GET", "/admin/plans", null).statusCode())
                .as("the database is fine")
                .isEqualTo(200);
    }

    @Test
    void aBodyTheParserRefusesIsNamedAsTheCheckApiNamesIt() {
        // before: "body: is not valid JSON" for all of them, naming neither the field nor the limit
        HttpResponse<String> duplicate =
                admin("POST", "/admin/plans", "{\"name\":\"d1\",\"name\":\"d2\",\"limit\":1,\"period\":\"1m\"}");
        assertThat(duplicate.statusCode()).isEqualTo(400);
        assertThat(duplicate.body()).contains("Duplicate field 'name'");
        HttpResponse<String> deep =
                admin("POST", "/admin/plans", "{\"name\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}");
        assertThat(deep.statusCode()).isEqualTo(400);
        assertThat(deep.body()).contains("nested too deep");
        assertThat(admin("GET", "/admin/plans/d1", null).statusCode()).isEqualTo(404);
        assertThat(admin("GET", "/admin/plans/d2", null).statusCode()).isEqualTo(404);
    }

    @Test
    void aKeyIsShownOnceStoredAsAHashRevokedAndRotated() throws SQLException {
        admin("POST", "/admin/plans", "{\"name\":\"paid\",\"limit\":600,\"period\":\"1m\"}");
        HttpResponse<String> issued = admin("POST", "/admin/keys", "{\"plan\":\"paid\",\"label\":\"acme\"}");
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
        String id = field(issued.body(), "id");
        String key = field(issued.body(), "key");
        assertThat(key).startsWith("sk_" + id + ".").hasSizeGreaterThan(50);
        HttpResponse<String> shown = admin("GET", "/admin/keys/" + id, null);
        assertThat(shown.body())
                .contains("\"state\":\"active\"", "\"plan\":\"paid\"")
                .doesNotContain(key);
        assertThat(shown.body()).doesNotContain("\"key\"");
        // in the database: a 32-byte hash, never the secret
        String secret = key.substring(key.indexOf('.') + 1);
        try (Connection c = DriverManager.getConnection(url(), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT * FROM api_keys WHERE id = '" + id + "'")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getBytes("secret_hash")).hasSize(32);
            for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
                assertThat(String.valueOf(r.getObject(i))).doesNotContain(secret);
            }
        }
        assertThat(admin("POST", "/admin/keys", "{\"plan\":\"nope\"}").body()).contains("\"name\":\"plan\"");
        assertThat(admin("DELETE", "/admin/plans/paid", null).statusCode()).isEqualTo(409);

        HttpResponse<String> rotated = admin("POST", "/admin/keys/" + id + "/rotate", "{\"overlap\":\"1h\"}");
        assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(201);
        String newId = field(rotated.body(), "id");
        assertThat(newId).isNotEqualTo(id);
        HttpResponse<String> old = admin("GET", "/admin/keys/" + id, null);
        assertThat(old.body()).contains("\"state\":\"expiring\"", "\"replacedBy\":\"" + newId + "\"");
        Instant expires = Instant.parse(field(old.body(), "expiresAt"));
        assertThat(expires)
                .isBetween(Instant.now().plusSeconds(3500), Instant.now().plusSeconds(3700));
        assertThat(admin("POST", "/admin/keys/" + id + "/rotate", "{\"overlap\":\"90d\"}")
                        .body())
                .contains("\"name\":\"overlap\"");

        assertThat(admin("POST", "/admin/keys/" + newId + "/revoke", null).body())
                .contains("\"state\":\"revoked\"");
        assertThat(admin("POST", "/admin/keys/" + newId + "/rotate", null).statusCode())
                .isEqualTo(409);
        assertThat(admin("GET", "/admin/keys/nope", null).statusCode()).isEqualTo(404);
    }

    @Test
    void theSchemaIsFlywaysAndTheApiAnswers503WhileTheDatabaseIsDown() throws Exception {
        // every migration on the class path, applied in order
        String expected;
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of(
                AdminApiIT.class.getResource("/db/migration").toURI()))) {
            expected = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.matches("V\\d+__.*\\.sql"))
                    .map(n -> n.substring(1, n.indexOf("__")))
                    .sorted(java.util.Comparator.comparingInt(Integer::parseInt))
                    .collect(java.util.stream.Collectors.joining(","));
        }
        assertThat(expected).startsWith("1,2,3");
        try (Connection c = DriverManager.getConnection(url(), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT string_agg(version, ',' ORDER BY installed_rank) FROM flyway_schema_history"
                                + " WHERE success")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).isEqualTo(expected);
        }
        pg.stop();
        try {
            HttpResponse<String> r = admin("GET", "/admin/plans", null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
            // checks do not need the database
            assertThat(ServiceNode.post(node.url(), "/v1/check", "{\"policy\":\"demo\",\"key\":\"k\"}")
                            .statusCode())
                    .isEqualTo(200);
        } finally {
            pg.restart();
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                        admin("GET", "/admin/plans", null).statusCode())
                .isEqualTo(200));
    }
}
