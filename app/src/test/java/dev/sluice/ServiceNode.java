package dev.sluice;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** One Sluice node, started in this JVM on a free port with its own context and Redis connections. */
public final class ServiceNode implements AutoCloseable {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final EmbeddedServer server;

    private ServiceNode(EmbeddedServer server) {
        this.server = server;
    }

    public static ServiceNode start(Map<String, Object> properties) {
        Map<String, Object> all = new HashMap<>(properties);
        all.put("micronaut.server.port", -1);
        all.putIfAbsent("limiter.policies.demo.limit", 10);
        return new ServiceNode(ApplicationContext.run(EmbeddedServer.class, all));
    }

    public String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    public int port() {
        return server.getPort();
    }

    public ApplicationContext context() {
        return server.getApplicationContext();
    }

    /** The sum of every series of the Prometheus metric {@code name} this node exposes now. */
    public double metric(String name) {
        if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
            // a Micrometer name (sluice.store.degraded) matches no Prometheus line and summed to 0
            throw new IllegalArgumentException("not a Prometheus metric name: " + name);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "(?m)^" + java.util.regex.Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$")
                .matcher(get(url(), "/prometheus").body());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum;
    }

    public static HttpResponse<String> post(String base, String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    public static HttpResponse<String> get(String base, String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET().build());
    }

    /** {@code method path} with a JSON {@code body} (or none) and, unless null, {@code Authorization: Bearer token}. */
    public static HttpResponse<String> call(String base, String method, String path, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return send(b.build());
    }

    public static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The answer without what depends on the moment it was given (and on the subject's name). */
    public static String timeless(HttpResponse<String> r, String key) {
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

    /** The whole-number field {@code field} of a JSON body; fails the test when it is not there. */
    public static long num(String json, String field) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"" + field + "\":(-?\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError(field + " not in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    @Override
    public void close() {
        server.getApplicationContext().close();
    }
}
