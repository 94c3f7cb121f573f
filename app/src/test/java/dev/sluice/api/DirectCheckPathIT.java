package dev.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The direct check path ({@link DirectCheckPath}) against the controller, on one Redis Cluster: the
 * same requests to a node with the path (the default) and to one without it ({@code
 * limiter.http.direct-path: false}) get the same statuses, headers and bodies, consume the same, and
 * are counted in the same {@code http.server.requests} series; the path really answers what it
 * claims and hands the rest to the framework.
 */
@ExtendWith(RedisServersExtension.class)
class DirectCheckPathIT {
    private static ServiceNode direct;
    private static ServiceNode controller;

    @BeforeAll
    static void start() {
        RedisCluster cluster = RedisServers.cluster();
        Map<String, Object> common = Map.of(
                "redis.uris",
                cluster.uris(),
                "limiter.policies.five.limit",
                5,
                "limiter.policies.five.period",
                "1m",
                "limiter.policies.hour.limit",
                3,
                "limiter.policies.hour.period",
                "1h",
                "limiter.policies.hour.algorithm",
                "fixed-window");
        direct = ServiceNode.start(common);
        Map<String, Object> off = new java.util.HashMap<>(common);
        off.put("limiter.http.direct-path", false);
        controller = ServiceNode.start(off);
    }

    @AfterAll
    static void stop() {
        direct.close();
        controller.close();
    }

    /** One request of the sequence: a body (with {@code KEY} for the subject) and extra headers. */
    private record Call(String body, String... headers) {}

    private static HttpResponse<String> send(ServiceNode node, String path, Call call, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.url() + path))
                .POST(HttpRequest.BodyPublishers.ofString(call.body().replace("KEY", key)));
        for (int i = 0; i < call.headers().length; i += 2) {
            b.header(call.headers()[i], call.headers()[i + 1]);
        }
        return ServiceNode.send(b.build());
    }

    @Test
    void answersAsTheControllerDoes() {
        List<Call> calls = List.of(
                new Call("{\"policy\":\"five\",\"key\":\"KEY\",\"cost\":2}"),
                new Call("{\"policy\":\"five\",\"key\":\"KEY\",\"cost\":3}", "Content-Type", "application/json"),
                new Call("{\"policy\":\"five\",\"key\":\"KEY\"}"), // denied by the store
                new Call("{\"policy\":\"five\",\"key\":\"KEY\"}"), // denied from the over-limit cache
                new Call(
                        "{\"checks\":[{\"policy\":\"hour\",\"key\":\"KEY\"},{\"policy\":\"five\",\"key\":\"m-KEY\"}]}"),
                new Call("{\"checks\":[{\"policy\":\"hour\",\"key\":\"KEY\",\"cost\":3},"
                        + "{\"policy\":\"five\",\"key\":\"m-KEY\"}]}"), // denied: hour has 2 left, both refunded
                new Call("{\"policy\":\"hour\",\"key\":\"KEY\",\"cost\":0}", "Accept", "application/json"),
                new Call("{\"policy\":\"hour\",\"key\":\"x-KEY\"}", "Accept", "text/html, */*;q=0.8"),
                new Call("{\"policy\":\"hour\",\"key\":\"y-KEY\"}", "Accept", "text/plain"), // 406, consumes nothing
                new Call("{\"policy\":\"hour\",\"key\":\"y-KEY\",\"cost\":3}"), // so all 3 are still there
                new Call("{\"policy\":\"five\"}"),
                new Call("{\"policy\":\"nope\",\"key\":\"KEY\"}"),
                new Call("{\"policy\":\"five\",\"key\":\"KEY\",\"cost\":6}"),
                new Call("{\"policy\":\"five\",\"key\":\"KEY\",\"cost\":-1}"),
                new Call("{\"policy\":\"five\",\"key\":"),
                new Call(""),
                new Call("[1,2]"),
                new Call("{\"policy\":\"five\",\"key\":\"KEY\",\"apiKey\":\"sk_x\"}"),
                new Call("{\"policy\":\"five\",\"key\":\"KEY\"}", "X-Api-Key", "sk_y"),
                new Call("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000)),
                // left to the framework (CORS judges a foreign origin; application/* is 406 there)
                new Call("{\"policy\":\"hour\",\"key\":\"z-KEY\"}", "Origin", "http://evil.example"),
                new Call("{\"policy\":\"hour\",\"key\":\"z-KEY\"}", "Accept", "application/*"),
                new Call("{\"policy\":\"hour\",\"key\":\"z-KEY\",\"cost\":3}")); // all 3 still there
        String id = UUID.randomUUID().toString().substring(0, 8);
        String keyA = "a-" + id;
        String keyB = "b-" + id;
        long servedBefore = served();
        Map<String, Long> seriesDirect = checkSeries(direct);
        Map<String, Long> seriesController = checkSeries(controller);
        List<String> viaDirect = new ArrayList<>();
        List<String> viaController = new ArrayList<>();
        List<Integer> left = new ArrayList<>();
        for (Call call : calls) {
            long n = served();
            viaDirect.add(ServiceNode.timeless(send(direct, "/v1/check", call, keyA), keyA));
            if (served() == n) {
                left.add(viaDirect.size() - 1);
            }
            viaController.add(ServiceNode.timeless(send(controller, "/v1/check", call, keyB), keyB));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertThat(viaDirect.get(i)).as("call %d: %s", i, calls.get(i)).isEqualTo(viaController.get(i));
        }
        assertThat(viaDirect.get(0)).startsWith("200 ");
        assertThat(viaDirect.get(3)).startsWith("429 ");
        assertThat(viaDirect.get(8)).startsWith("406 ");
        assertThat(viaDirect.get(9)).startsWith("200 ");
        assertThat(left)
                .as("calls left to the framework: Accept: text/plain, a foreign Origin, Accept: application/*")
                .containsExactly(8, 20, 21);
        assertThat(viaDirect.get(20)).startsWith("403 ");
        assertThat(viaDirect.get(21)).startsWith("406 ");
        assertThat(viaDirect.get(22)).startsWith("200 ");
        assertThat(served() - servedBefore).isEqualTo(calls.size() - 3);
        Map<String, Long> countedDirect = since(seriesDirect, checkSeries(direct));
        assertThat(countedDirect)
                .as("http.server.requests for the checks, by status")
                .isEqualTo(since(seriesController, checkSeries(controller)))
                .containsKeys("200", "429", "400", "404");
    }

    private static Map<String, Long> since(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((status, n) -> {
            long grown = n - before.getOrDefault(status, 0L);
            if (grown > 0) {
                d.put(status, grown);
            }
        });
        return d;
    }

    @Test
    void leavesOtherRequestsToTheFramework() {
        String key = "o-" + UUID.randomUUID();
        long before = served();
        Call call = new Call("{\"policy\":\"five\",\"key\":\"KEY\"}");
        assertThat(send(direct, "/v1/check/", call, key).statusCode())
                .as("the framework's route matches with a trailing slash too")
                .isEqualTo(200);
        assertThat(send(direct, "/v1/checks", call, key).statusCode()).isEqualTo(404);
        assertThat(send(direct, "/v1/ping", call, key).statusCode()).isEqualTo(200);
        HttpResponse<String> get = ServiceNode.get(direct.url(), "/v1/check");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(served()).isEqualTo(before);
        HttpResponse<String> query = send(direct, "/v1/check?trace=1", call, key);
        assertThat(query.statusCode()).isEqualTo(200);
        assertThat(served()).isEqualTo(before + 1);
        assertThat(ServiceNode.num(query.body(), "remaining")).isEqualTo(3);
    }

    @Test
    void pipelinedRequestsAreAnsweredInTheirOrder() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        StringBuilder wire = new StringBuilder();
        for (String body : new String[] {
            "{\"policy\":\"five\",\"key\":\"first-" + id + "\"}",
            null, // GET /v1/ping, the framework's
            "{\"policy\":\"nope\",\"key\":\"third-" + id + "\"}",
            "{\"policy\":\"five\",\"key\":\"fourth-" + id + "\"}"
        }) {
            if (body == null) {
                wire.append("GET /v1/ping HTTP/1.1\r\nHost: t\r\n\r\n");
            } else {
                wire.append("POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Length: ")
                        .append(body.length())
                        .append("\r\n\r\n")
                        .append(body);
            }
        }
        wire.append("GET /v1/ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        String answers = exchange(wire.toString());
        int first = answers.indexOf("first-" + id);
        int ping = answers.indexOf("{\"pong\":true}", first);
        int third = answers.indexOf("no policy named 'nope'", ping);
        int fourth = answers.indexOf("fourth-" + id, third);
        int lastPing = answers.indexOf("{\"pong\":true}", fourth);
        assertThat(List.of(first, ping, third, fourth, lastPing)).as(answers).doesNotContain(-1);
        assertThat(answers.split("HTTP/1.1 ", -1)).hasSize(6);
    }

    @Test
    void requestsPipelinedAfterACloseAreNeitherDecidedNorAnswered() throws Exception {
        String key = "c-" + UUID.randomUUID();
        String body = "{\"policy\":\"five\",\"key\":\"" + key + "\"}";
        String check = "POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length() + "\r\n";
        String wire = check + "Connection: close\r\n\r\n" + body // the closing request
                + (check + "\r\n" + body).repeat(3) // by the direct path, had the connection stayed
                + check + "Accept: text/plain\r\n\r\n" + body // by the framework
                + "GET /v1/ping HTTP/1.1\r\nHost: t\r\n\r\n";
        String answers = exchange(wire);
        assertThat(answers.split("HTTP/1.1 ", -1)).as(answers).hasSize(2);
        assertThat(answers).startsWith("HTTP/1.1 200 ").contains("\"remaining\":4");
        HttpResponse<String> look = ServiceNode.get(direct.url(), "/v1/limits/five/" + key);
        assertThat(ServiceNode.num(look.body(), "remaining"))
                .as("only the closing request consumed")
                .isEqualTo(4);
    }

    /** Writes {@code wire} to the direct node in one write; everything it answers until it closes. */
    private static String exchange(String wire) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", direct.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(wire.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static long served() {
        return direct.context().getBean(DirectPathInstaller.class).served();
    }

    /** {@code http.server.requests} counts for {@code POST /v1/check} (and 404s) by status. */
    private static Map<String, Long> checkSeries(ServiceNode node) {
        Matcher m = Pattern.compile("(?m)^http_server_requests_seconds_count\\{([^}]*)} (\\S+)$")
                .matcher(ServiceNode.get(node.url(), "/prometheus").body());
        Map<String, Long> counts = new TreeMap<>();
        while (m.find()) {
            String labels = m.group(1);
            // the filter counts a 404 under NOT_FOUND, whatever the route
            boolean check = labels.contains("uri=\"/v1/check\"") || labels.contains("uri=\"NOT_FOUND\"");
            if (check && labels.contains("method=\"POST\"")) {
                Matcher status = Pattern.compile("status=\"(\\d+)\"").matcher(labels);
                if (status.find()) {
                    counts.merge(status.group(1), (long) Double.parseDouble(m.group(2)), Long::sum);
                }
            }
        }
        return counts;
    }
}
