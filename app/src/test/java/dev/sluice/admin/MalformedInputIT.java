package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisServers;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.BeforeTry;

/**
 * Issue 16, part 2: every endpoint driven over real HTTP with generated malformed input — depth,
 * size, encodings, control bytes, wrong types, duplicate fields, path tricks, raw request bytes —
 * against a real node on the Redis Cluster and a real PostgreSQL. Each try asserts: no 5xx; a
 * refusal is a 4xx problem+json; and, after it, no Redis key of the node's was made or removed and
 * no row of the plans database changed (a content digest of every table).
 */
class MalformedInputIT {
    private static final String TOKEN = "adm-" + UUID.randomUUID();
    private static final String PREFIX = "fz" + UUID.randomUUID().toString().substring(0, 8) + ":";
    private static final String[] TABLES = {
        "plans", "api_keys", "overrides", "usage_ledger", "usage_minutes", "violations", "usage_totals"
    };

    private static String dbUrl;
    private static ServiceNode node;
    private static RedisClusterClient redis;
    private static StatefulRedisClusterConnection<String, String> connection;
    private static String keyId;
    private Set<String> redisBefore;
    private Map<String, String> rowsBefore;

    @BeforeContainer
    static void start() throws SQLException {
        RedisServers.postgres();
        dbUrl = PlansDatabase.create("fuzz");
        Map<String, Object> p = PlansDatabase.nodeProperties(dbUrl, TOKEN);
        p.put("limiter.key-prefix", PREFIX);
        p.put("limiter.policies.fuzz.limit", 5);
        p.put("limiter.policies.fuzz.period", "1m");
        node = ServiceNode.start(p);
        assertThat(PlansDatabase.admin(
                                node.url(),
                                TOKEN,
                                "POST",
                                "/admin/plans",
                                "{\"name\":\"fz\",\"limit\":5,\"period\":\"1m\"}")
                        .statusCode())
                .isEqualTo(201);
        String issued = PlansDatabase.admin(node.url(), TOKEN, "POST", "/admin/keys", "{\"plan\":\"fz\"}")
                .body();
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"id\":\"([^\"]*)\"").matcher(issued);
        assertThat(m.find()).as(issued).isTrue();
        keyId = m.group(1);
        redis = RedisClusterClient.create(
                Arrays.stream(RedisServers.cluster().uris().split(","))
                        .map(RedisURI::create)
                        .toList());
        connection = redis.connect();
    }

    @AfterContainer
    static void stop() {
        if (connection != null) {
            connection.close();
            redis.shutdown();
        }
        if (node != null) {
            node.close();
        }
    }

    /** The node's Redis keys, apart from its membership heartbeat (which it renews by itself). */
    private static Set<String> redisKeys() {
        Set<String> keys = new HashSet<>(connection.sync().keys(PREFIX + "*"));
        keys.removeIf(k -> k.contains("members") || k.contains("nodes"));
        return keys;
    }

    /** A digest of every row of every table of the plans database. */
    private static Map<String, String> rows() throws SQLException {
        PostgresServer pg = RedisServers.postgres();
        Map<String, String> digests = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(dbUrl, pg.user(), pg.password());
                Statement s = c.createStatement()) {
            for (String table : TABLES) {
                try (ResultSet r = s.executeQuery(
                        "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')"
                                + " FROM " + table + " t")) {
                    r.next();
                    digests.put(table, r.getString(1));
                }
            }
        }
        return digests;
    }

    @BeforeTry
    void before() throws SQLException {
        redisBefore = redisKeys();
        rowsBefore = rows();
    }

    @AfterTry
    void nothingChanged() throws SQLException {
        assertThat(redisKeys()).as("the node's Redis keys").isEqualTo(redisBefore);
        assertThat(rows()).as("the plans database's rows").isEqualTo(rowsBefore);
    }

    private static HttpResponse<String> send(String method, String path, byte[] body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.url() + path))
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        return ServiceNode.send(b.build());
    }

    /** A refusal: a 4xx other than 429 (nothing was decided), as problem+json. */
    private static void assertRefused(HttpResponse<String> r, String what) {
        assertThat(r.statusCode())
                .as(what + " → " + r.body())
                .isBetween(400, 499)
                .isNotEqualTo(429);
        assertThat(r.headers().firstValue("Content-Type"))
                .as(what + " → " + r.body())
                .hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    }

    // ---- POST /v1/check -------------------------------------------------------------------------

    @Property(tries = 250, seed = "160216")
    void aMalformedCheckIsRefusedAndConsumesNothing(
            @ForAll("badCheckBodies") String body, @ForAll("apiKeyHeader") String apiKey) {
        Map<String, String> headers = apiKey.isEmpty()
                ? Map.of("Content-Type", "application/json")
                : Map.of("Content-Type", "application/json", "X-Api-Key", apiKey);
        assertRefused(send("POST", "/v1/check", body.getBytes(StandardCharsets.UTF_8), headers), body);
    }

    @Property(tries = 60, seed = "160217")
    void aCheckBodyOfArbitraryBytesIsRefused(@ForAll("bytes") byte[] body) {
        assertRefused(
                send("POST", "/v1/check", body, Map.of("Content-Type", "application/json")), Arrays.toString(body));
    }

    @Provide
    Arbitrary<String> apiKeyHeader() {
        // no header, or a key that is not one of the database's (unknown: 401, nothing consumed)
        return Arbitraries.oneOf(
                Arbitraries.just(""),
                Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(80),
                Arbitraries.just("sk_" + UUID.randomUUID() + ".x"));
    }

    @Provide
    Arbitrary<byte[]> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    }

    /** A name that is no policy of the node's. */
    private static Arbitrary<String> unknownPolicy() {
        return Arbitraries.strings()
                .withCharRange('a', 'z')
                .ofMinLength(1)
                .ofMaxLength(12)
                .filter(s -> !s.equals("fuzz") && !s.equals("demo"));
    }

    /** A JSON value of a type no check field takes where a string or number is expected. */
    private static Arbitrary<String> wrongType() {
        return Arbitraries.of("null", "true", "[]", "{}", "[\"a\"]", "{\"a\":1}", "1.5e400", "-0", "\"\"");
    }

    /** A JSON string holding what a key must not: too long, invalid, or a raw control byte. */
    private static Arbitrary<String> badKey() {
        return Arbitraries.oneOf(
                Arbitraries.just("\"\""),
                Arbitraries.strings()
                        .withCharRange('a', 'z')
                        .ofMinLength(257)
                        .ofMaxLength(400)
                        .map(s -> "\"" + s + "\""),
                Arbitraries.strings()
                        .withCharRange('\u0000', '\u001f')
                        .ofMinLength(1)
                        .ofMaxLength(4)
                        .map(s -> "\"k" + s + "\""), // unescaped control characters: not JSON
                Arbitraries.just("\"\\ud800\""), // a lone surrogate
                Arbitraries.just("\"\\u00\""), // a broken escape
                wrongType().filter(t -> !t.equals("\"\"")));
    }

    private static Arbitrary<String> badCost() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(Long.MIN_VALUE / 2, 0).map(String::valueOf),
                Arbitraries.longs().between(6, Long.MAX_VALUE).map(String::valueOf), // over the burst of 5
                Arbitraries.of("1.5", "1e3", "\"1\"", "99999999999999999999999", "NaN", "null", "[]", "{}"));
    }

    /** One field's text: the field, valid or not. */
    private static String field(String name, String value) {
        return "\"" + name + "\":" + value;
    }

    @Provide
    Arbitrary<String> badCheckBodies() {
        Arbitrary<String> validPolicy = Arbitraries.just("\"fuzz\"");
        Arbitrary<String> validKey =
                Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20).map(s -> "\"" + s + "\"");
        // one poisoned field, the others valid or poisoned too, in any order
        Arbitrary<String> poisonedPolicy = Combinators.combine(
                        Arbitraries.oneOf(unknownPolicy().map(s -> "\"" + s + "\""), wrongType()), validKey)
                .as((p, k) -> "{" + field("policy", p) + "," + field("key", k) + "}");
        Arbitrary<String> poisonedKey = Combinators.combine(validPolicy, badKey())
                .as((p, k) -> "{" + field("policy", p) + "," + field("key", k) + "}");
        Arbitrary<String> poisonedCost = Combinators.combine(validPolicy, validKey, badCost())
                .as((p, k, c) -> "{" + field("policy", p) + "," + field("key", k) + "," + field("cost", c) + "}");
        Arbitrary<String> duplicate = Combinators.combine(validKey, validKey)
                .as((k1, k2) -> "{\"policy\":\"fuzz\",\"key\":" + k1 + ",\"key\":" + k2 + "}");
        Arbitrary<String> deep = Arbitraries.integers()
                .between(1_100, 20_000)
                .map(n -> "{\"policy\":\"fuzz\",\"key\":\"d\",\"x\":" + "[".repeat(n) + "]".repeat(n) + "}");
        Arbitrary<String> truncated = Combinators.combine(
                        validKey, Arbitraries.integers().between(0, 24))
                .as((k, cut) -> {
                    String whole = "{\"policy\":\"fuzz\",\"key\":" + k + "}";
                    return whole.substring(0, Math.min(cut, whole.length() - 1));
                });
        Arbitrary<String> badChecks = Arbitraries.oneOf(
                Arbitraries.just("{\"checks\":[]}"),
                Arbitraries.just("{\"checks\":{}}"),
                Arbitraries.integers()
                        .between(17, 40)
                        .map(n -> "{\"checks\":["
                                + String.join(
                                        ",", java.util.Collections.nCopies(n, "{\"policy\":\"fuzz\",\"key\":\"m\"}"))
                                + "]}"),
                poisonedKey.map(bad -> "{\"checks\":[{\"policy\":\"fuzz\",\"key\":\"ok\"}," + bad + "]}"));
        Arbitrary<String> notAnObject =
                Arbitraries.of("", " ", "[]", "null", "1", "\"check\"", "{", "}", "{\"policy\"}");
        Arbitrary<String> badRequestFacts = Arbitraries.of(
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":{\"remote-address\":\"999.1.1.1\"}}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":{\"remote-address\":\"1.2.3.4\\u0000\"}}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":{\"x-forwarded-for\":[1,2]}}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":\"GET /\"}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":{\"method\":\"GE T\"}}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":{\"path\":\"users\"}}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"request\":{\"path\":\"/a\\u0000b\"}}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"tier\":\"no-such-tier\"}",
                "{\"policy\":\"fuzz\",\"key\":\"r\",\"tier\":7}");
        return Arbitraries.oneOf(
                poisonedPolicy,
                poisonedKey,
                poisonedCost,
                duplicate,
                deep,
                truncated,
                badChecks,
                notAnObject,
                badRequestFacts);
    }

    // ---- paths: /v1/limits, /v1/leases, /admin/... ---------------------------------------------

    /** A path segment: percent-encoded control bytes, invalid UTF-8, dot segments, very long, empty. */
    @Provide
    Arbitrary<String> segment() {
        return Arbitraries.oneOf(
                Arbitraries.of(
                        "%00",
                        "a%00b",
                        "%ff%fe",
                        "%c0%af",
                        "%e0%80%af",
                        "..",
                        "%2e%2e",
                        "%2f",
                        "a%2fb",
                        "%5c",
                        "%0d%0aX-Injected:%201",
                        "~",
                        "%20",
                        "%7f",
                        "%25",
                        "%25zz"),
                Arbitraries.strings().withCharRange('a', 'z').ofMinLength(257).ofMaxLength(2_000),
                Arbitraries.strings()
                        .withCharRange('\u0001', '\u001f')
                        .ofMinLength(1)
                        .ofMaxLength(3)
                        .map(s -> java.net.URLEncoder.encode(s, StandardCharsets.UTF_8)));
    }

    @Property(tries = 120, seed = "160218")
    void aTrickyPathIsNeverA5xxAndChangesNothing(
            @ForAll("segment") String a, @ForAll("segment") String b, @ForAll("route") String route) {
        String path = route.replace("{a}", a).replace("{b}", b);
        String method = route.substring(0, route.indexOf(' '));
        String target = path.substring(path.indexOf(' ') + 1);
        HttpResponse<String> r = send(
                method,
                target,
                method.equals("POST") || method.equals("PUT") ? "{}".getBytes(StandardCharsets.UTF_8) : null,
                Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"));
        assertThat(r.statusCode()).as(path + " → " + r.body()).isLessThan(500);
        if (r.statusCode() >= 400) {
            assertRefused(r, path);
        }
    }

    @Provide
    Arbitrary<String> route() {
        // every route with a path parameter, as the admin (who may call them all) would; GETs too
        return Arbitraries.of(
                "GET /v1/limits/{a}/{b}",
                "GET /v1/limits/fuzz/{a}",
                "DELETE /v1/limits/{a}/{b}",
                "DELETE /v1/leases/{a}",
                "GET /admin/plans/{a}",
                "PUT /admin/plans/{a}",
                "DELETE /admin/plans/{a}",
                "GET /admin/plans/{a}/keys",
                "GET /admin/keys/{a}",
                "POST /admin/keys/{a}/revoke",
                "POST /admin/keys/{a}/rotate",
                "POST /admin/keys/{a}/reset",
                "POST /admin/keys/{a}/overrides",
                "GET /admin/keys/{a}/overrides",
                "DELETE /admin/overrides/{a}",
                "DELETE /admin/limits/{a}/{b}",
                "GET /admin/usage?key={a}&from={b}",
                "GET /admin/violations?plan={a}&limit={b}");
    }

    // ---- admin bodies -----------------------------------------------------------------------------

    @Property(tries = 150, seed = "160219")
    void aMalformedAdminBodyIsRefusedAndChangesNothing(
            @ForAll("adminTarget") String target, @ForAll("badAdminBody") String body) {
        String method = target.substring(0, target.indexOf(' '));
        String path = target.substring(target.indexOf(' ') + 1).replace("{id}", keyId);
        HttpResponse<String> r = send(
                method,
                path,
                body.getBytes(StandardCharsets.UTF_8),
                Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"));
        assertRefused(r, target + " " + body);
    }

    @Provide
    Arbitrary<String> adminTarget() {
        return Arbitraries.of(
                "POST /admin/plans",
                "PUT /admin/plans/fz",
                "POST /admin/keys",
                "POST /admin/keys/{id}/overrides",
                "POST /admin/keys/{id}/reset",
                "POST /admin/keys/{id}/rotate");
    }

    @Provide
    Arbitrary<String> badAdminBody() {
        // no null and no true: {"rate": true} is a valid reset, {"overlap": null} a valid rotation
        Arbitrary<String> value = Arbitraries.oneOf(
                wrongType().filter(t -> !t.equals("null") && !t.equals("true")),
                badCost(),
                Arbitraries.strings()
                        .withCharRange('\u0000', '\u001f')
                        .ofMinLength(1)
                        .ofMaxLength(3)
                        .map(s -> "\"" + s + "\""),
                Arbitraries.just("\"a\\u0000b\""),
                Arbitraries.just("\"a\\ud800b\""), // a lone surrogate: stored as '?' before
                Arbitraries.strings()
                        .withCharRange('a', 'z')
                        .ofMinLength(300)
                        .ofMaxLength(600)
                        .map(s -> "\"" + s + "\""));
        Arbitrary<String> name = Arbitraries.of(
                "name",
                "limit",
                "period",
                "burst",
                "dailyQuota",
                "monthlyQuota",
                "tier",
                "quotaTimeZone",
                "plan",
                "label",
                "expiresAt",
                "overlap",
                "until",
                "block",
                "rate",
                "daily",
                "monthly",
                "unknownField");
        // every document below misses what its target requires or carries a value it refuses
        Arbitrary<String> poisoned = Combinators.combine(name, value).as((n, v) -> "{\"" + n + "\":" + v + "}");
        Arbitrary<String> duplicate = name.map(n -> "{\"" + n + "\":1,\"" + n + "\":2,\"unknownField\":0}");
        Arbitrary<String> deep = Arbitraries.integers()
                .between(1_100, 20_000)
                .map(n -> "{\"unknownField\":" + "[".repeat(n) + "]".repeat(n) + "}");
        Arbitrary<String> notAnObject = Arbitraries.of("[]", "null", "1", "\"x\"", "{", "{\"a\"}", "\u0000");
        return Arbitraries.oneOf(poisoned, duplicate, deep, notAnObject);
    }

    // ---- raw requests --------------------------------------------------------------------------------

    @Property(tries = 80, seed = "160220")
    void aMalformedRequestHeadIsNeverA5xxAndChangesNothing(@ForAll("rawRequest") String head) throws IOException {
        String status = raw(head);
        // the server may close without an answer (an unparseable head); when it answers, never 5xx
        if (!status.isEmpty()) {
            assertThat(status).as(head).doesNotMatch("HTTP/1\\.[01] 5\\d\\d.*");
        }
    }

    @Provide
    Arbitrary<String> rawRequest() {
        String body = "{\"policy\":\"fuzz\",\"key\":\"raw\"}";
        return Arbitraries.of(
                // a check whose head is broken: not one may be decided
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                        + "\r\nContent-Encoding: gzip\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                        + "\r\nContent-Encoding: deflate\r\n\r\n" + body,
                // codings the server does not decode: the bytes must not be read as JSON
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                        + "\r\nContent-Encoding: br\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                        + "\r\nContent-Encoding: x-unknown\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                        + "\r\nContent-Encoding: gzip, gzip\r\n\r\n" + body,
                "POST /admin/plans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                        + "\r\nContent-Type: application/json\r\nContent-Encoding: zstd\r\nContent-Length: 37\r\n\r\n"
                        + "{\"name\":\"zz\",\"limit\":1,\"period\":\"1m\"}",
                "POST /v1/check\u0000 HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "POST /v1/check HTTP/2.0\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "POST /v1/check HTTP/9.9\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nContent-Length: " + body.length() + "\r\n\r\n"
                        + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\n: empty\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "POST /v1/check HTTP/1.1\r\nHost: x\r\nX-Api-Key: \u0001\u0002\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body,
                "POST /v1/%2e%2e/v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "POST //v1//check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "POST http://evil/v1/check?%zz HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n"
                        + body,
                "DELETE /v1/limits/fuzz/%c0%ae%c0%ae HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                        + "\r\n\r\n",
                "GET /admin/plans/%00 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n",
                // methods are case-sensitive: "post" is no POST (it was decided as one)
                "post /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body,
                "Get /v1/limits/fuzz/raw HTTP/1.1\r\nHost: x\r\n\r\n",
                // escapes that are not escapes (an HTTP client would refuse to send them)
                "GET /v1/limits/fuzz/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                "DELETE /v1/limits/%/%% HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n",
                "POST /admin/keys/%u0041/reset HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                        + "\r\nContent-Length: 0\r\n\r\n",
                "GET /admin/usage?key=%zz&from=%ff HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n",
                "POST /admin/plans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                        + "\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{\"a",
                "\r\n\r\n\r\n",
                "GARBAGE\r\n\r\n");
    }

    /** Sends {@code head} on a fresh connection; answers the status line, or "" if it closed without one. */
    private static String raw(String head) throws IOException {
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                line.write(c);
            }
            return line.toString(StandardCharsets.ISO_8859_1).trim();
        } catch (java.net.SocketTimeoutException e) {
            return "";
        }
    }
}
