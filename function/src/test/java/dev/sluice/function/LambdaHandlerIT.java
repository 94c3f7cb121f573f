package dev.sluice.function;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.plans.KeyDirectory;
import dev.sluice.testkit.ContractHeaders;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.micronaut.context.ApplicationContext;
import io.micronaut.function.aws.proxy.MockLambdaContext;
import io.micronaut.function.aws.proxy.test.OverHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * shared/contract/http-api.md against the AWS Lambda handlers, on the Redis Cluster and PostgreSQL:
 * real HTTP turned into API Gateway events by micronaut-function-aws-api-proxy-test's handler
 * ({@link OverHttp}) for the HTTP API handler, and REST API events handed straight to the REST API
 * handler, as Lambda hands them.
 */
@ExtendWith(RedisServersExtension.class)
class LambdaHandlerIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static final HttpClient CLIENT =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static RedisCluster cluster;
    private static String database;
    private static Lambda lambda;

    /** A handler on a context of its own, served over HTTP on a loopback port. */
    private record Lambda(HttpApiHandler handler, HttpServer server, ExecutorService threads) implements AutoCloseable {
        static Lambda start(Map<String, Object> properties) {
            HttpApiHandler handler = new HttpApiHandler(ApplicationContext.run(properties));
            try {
                HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
                ExecutorService threads = Executors.newFixedThreadPool(16);
                server.setExecutor(threads);
                server.createContext("/", OverHttp.of(handler));
                server.start();
                return new Lambda(handler, server, threads);
            } catch (IOException e) {
                handler.close();
                throw new UncheckedIOException(e);
            }
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
            threads.shutdownNow();
            handler.getApplicationContext().close(); // a handler given a context leaves it open
        }
    }

    @BeforeAll
    static void start() throws SQLException {
        cluster = RedisServers.cluster();
        PostgresServer pg = RedisServers.postgres();
        database = "lambda_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        lambda = Lambda.start(properties());
    }

    @AfterAll
    static void stop() {
        if (lambda != null) {
            lambda.close();
        }
    }

    private static Map<String, Object> properties() {
        PostgresServer pg = RedisServers.postgres();
        Map<String, Object> p = new HashMap<>();
        p.put("redis.uris", cluster.uris());
        p.put("datasources.default.url", "jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + database);
        p.put("datasources.default.username", pg.user());
        p.put("datasources.default.password", pg.password());
        p.put("limiter.admin.tokens", TOKEN);
        // the scheduled write-behind flush effectively off: a frozen function never runs it, so
        // what reaches the ledger here is what each request wrote before it answered
        p.put("limiter.plans.ledger-flush", "1h");
        p.put("limiter.policies.five.limit", 5);
        p.put("limiter.policies.five.period", "1m");
        return p;
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> post(String base, String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    private static HttpResponse<String> check(String base, String key, int cost) {
        return post(base, "/v1/check", "{\"policy\":\"five\",\"key\":\"" + key + "\",\"cost\":" + cost + "}");
    }

    private static long remaining(String key) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(lambda.url() + "/v1/limits/five/" + key))
                .GET()
                .build());
        assertThat(r.statusCode()).isEqualTo(200);
        return Long.parseLong(r.headers().firstValue("RateLimit-Remaining").orElseThrow());
    }

    private static long num(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":(-?\\d+)").matcher(json);
        assertThat(m.find()).as("field %s in %s", field, json).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void anAdmittedCheckCarriesEveryHeaderAndBodyField() {
        String key = "user-" + UUID.randomUUID();
        HttpResponse<String> r = check(lambda.url(), key, 2);
        long now = Instant.now().getEpochSecond();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).contains("\"allowed\":true", "\"policy\":\"five\"", "\"key\":\"" + key + "\"");
        assertThat(r.body()).contains("\"degraded\":false");
        assertThat(num(r.body(), "remaining")).isEqualTo(3);
        ContractHeaders.assertDecision(r.headers(), "five", 5, 60, 3, 24, now);
        assertThat(r.headers().firstValue("Retry-After")).isEmpty();
    }

    @Test
    void aDeniedCheckIsProblemJsonWithRetryAfter() {
        String key = "user-" + UUID.randomUUID();
        assertThat(check(lambda.url(), key, 5).statusCode()).isEqualTo(200);
        HttpResponse<String> r = check(lambda.url(), key, 1);
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.body())
                .contains(
                        "\"type\":\"https://iana.org/assignments/http-problem-types#quota-exceeded\"",
                        "\"status\":429",
                        "\"violated-policies\":[\"five\"]",
                        "\"allowed\":false",
                        "\"degraded\":false");
        assertThat(num(r.body(), "remaining")).isZero();
        long retryAfter = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isGreaterThanOrEqualTo(Math.max(1, num(r.body(), "retryAfterSeconds")));
        assertThat(r.headers().firstValue("RateLimit-Remaining")).hasValue("0");
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"five\";q=5;w=60");
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                Arguments.of("malformed JSON", "{\"policy\":\"five\",", 400, "body"),
                Arguments.of("empty body", "", 400, "body"),
                Arguments.of("duplicate field", "{\"policy\":\"five\",\"key\":\"K\",\"key\":\"w\"}", 400, "body"),
                Arguments.of("missing key", "{\"policy\":\"five\"}", 400, "key"),
                Arguments.of("empty key", "{\"policy\":\"five\",\"key\":\"\"}", 400, "key"),
                Arguments.of("257-byte key", "{\"policy\":\"five\",\"key\":\"" + "k".repeat(257) + "\"}", 400, "key"),
                Arguments.of("cost 0", "{\"policy\":\"five\",\"key\":\"K\",\"cost\":0}", 400, "cost"),
                Arguments.of("cost above burst", "{\"policy\":\"five\",\"key\":\"K\",\"cost\":6}", 400, "cost"),
                Arguments.of("string cost", "{\"policy\":\"five\",\"key\":\"K\",\"cost\":\"1\"}", 400, "cost"),
                Arguments.of("unknown policy", "{\"policy\":\"nope\",\"key\":\"K\"}", 404, "policy"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputIsAProblemNamingTheFieldAndConsumesNothing(String name, String body, int status, String field) {
        String key = "bad-" + UUID.randomUUID();
        HttpResponse<String> r = post(lambda.url(), "/v1/check", body.replace("\"K\"", "\"" + key + "\""));
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.body()).contains("\"status\":" + status, "\"invalid-params\":[{\"name\":\"" + field + "\"");
        assertThat(remaining(key)).as("nothing consumed").isEqualTo(5);
    }

    @Test
    void lookingConsumesNothing() {
        String key = "user-" + UUID.randomUUID();
        assertThat(check(lambda.url(), key, 1).statusCode()).isEqualTo(200);
        assertThat(remaining(key)).isEqualTo(4);
        assertThat(remaining(key)).isEqualTo(4);
    }

    @Test
    void aRestApiEventIsAnsweredByTheRestApiHandler() {
        try (ApplicationContext context = ApplicationContext.run(properties())) {
            RestApiHandler rest = new RestApiHandler(context);
            String key = "rest-" + UUID.randomUUID();
            List<Integer> statuses = new ArrayList<>();
            APIGatewayProxyResponseEvent last = null;
            for (int i = 0; i < 6; i++) {
                APIGatewayProxyRequestEvent event = new APIGatewayProxyRequestEvent()
                        .withHttpMethod("POST")
                        .withPath("/v1/check")
                        .withHeaders(Map.of("Content-Type", "application/json"))
                        .withBody("{\"policy\":\"five\",\"key\":\"" + key + "\"}");
                last = rest.handleRequest(event, new MockLambdaContext());
                statuses.add(last.getStatusCode());
            }
            assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 429);
            Map<String, String> h = new HashMap<>();
            last.getMultiValueHeaders().forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            assertThat(h).containsEntry("content-type", "application/problem+json");
            assertThat(h).containsEntry("ratelimit-remaining", "0");
            assertThat(Long.parseLong(h.get("retry-after"))).isPositive();
            assertThat(last.getBody()).contains("\"violated-policies\":[\"five\"]");
        }
    }

    /**
     * 400 concurrent checks on one key, the first requests a new function instance serves: exactly
     * the limit admitted, every other one denied, none degraded, no 5xx.
     */
    @Test
    void aBurstOnAFreshInstanceAdmitsExactlyTheLimit() throws Exception {
        try (Lambda fresh = Lambda.start(properties())) {
            String key = "burst-" + UUID.randomUUID();
            int n = 400;
            ExecutorService callers = Executors.newFixedThreadPool(32);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    answers.add(callers.submit(() -> {
                        go.await();
                        return check(fresh.url(), key, 1);
                    }));
                }
                go.countDown();
                int admitted = 0;
                int denied = 0;
                int degraded = 0;
                for (Future<HttpResponse<String>> f : answers) {
                    HttpResponse<String> r = f.get();
                    if (r.statusCode() == 200) {
                        admitted++;
                    } else if (r.statusCode() == 429) {
                        denied++;
                    }
                    if (r.body().contains("\"degraded\":true")) {
                        degraded++;
                    }
                }
                assertThat(degraded).as("degraded decisions").isZero();
                assertThat(admitted).as("admitted").isEqualTo(5);
                assertThat(denied).as("denied").isEqualTo(n - 5);
            } finally {
                callers.shutdownNow();
            }
        }
    }

    /**
     * A function is frozen as soon as it answers, and may be reclaimed without another request or a
     * signal: usage a check by API key admitted is in the ledger when its answer arrives, not after a
     * flush that a frozen process never runs (the scheduled flush is off here).
     */
    @Test
    void usageAdmittedByKeyIsInTheLedgerWhenTheAnswerArrives() throws SQLException {
        HttpResponse<String> plan = send(HttpRequest.newBuilder(URI.create(lambda.url() + "/admin/plans"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"fn\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":20}"))
                .build());
        assertThat(plan.statusCode()).isBetween(200, 201);
        HttpResponse<String> issued = send(HttpRequest.newBuilder(URI.create(lambda.url() + "/admin/keys"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"plan\":\"fn\"}"))
                .build());
        Matcher m = Pattern.compile("\"key\":\"([^\"]*)\"").matcher(issued.body());
        assertThat(m.find()).as(issued.body()).isTrue();
        String apiKey = m.group(1);
        KeyDirectory directory = lambda.handler().getApplicationContext().getBean(KeyDirectory.class);
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> directory.resolve(apiKey, Instant.now()).valid());
        for (int i = 1; i <= 7; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(lambda.url() + "/v1/check"))
                    .header("X-Api-Key", apiKey)
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(ledger(apiKey)).as("ledger right after answer %d", i).isEqualTo(i);
        }
    }

    private static long ledger(String apiKey) throws SQLException {
        PostgresServer pg = RedisServers.postgres();
        String account = apiKey.substring(3, apiKey.indexOf('.'));
        try (Connection c = DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + database, pg.user(), pg.password());
                PreparedStatement s = c.prepareStatement(
                        "SELECT coalesce(sum(units), 0) FROM usage_ledger WHERE account = ? AND period = ?")) {
            s.setString(1, account);
            s.setString(2, "d:" + LocalDate.now(ZoneOffset.UTC));
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }
}
