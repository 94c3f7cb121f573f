package dev.sluice;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The training run of the JDK AOT cache (JEP 483/514/515): starts the service on a free port and
 * drives every public path a node serves — admitted and denied checks of each algorithm, looks,
 * multi-checks, releases, resets, bad input, health, metrics — over real HTTP, then stops it, so
 * that the cache holds the classes, linkage and method profiles of serving, not only of starting.
 *
 * <pre>java -XX:AOTCacheOutput=sluice.aot -cp sluice.jar dev.sluice.AotTraining</pre>
 *
 * {@code bin/build-aot} runs it (and the Dockerfile's build stage): first on the in-process store,
 * then, when {@code SLUICE_AOT_REDIS_URIS} names a Redis Cluster (bin/build-aot starts a throwaway
 * one-node cluster when {@code redis-server} is installed), on that cluster as well. Its subjects
 * belong to policies of its own, defined here.
 */
public final class AotTraining {
    /** Checks per policy: enough to pass each algorithm's limit (10) several times. */
    static final int CHECKS_PER_POLICY = 60;

    private static final String[] ALGORITHMS = {
        "token-bucket", "gcra", "fixed-window", "sliding-window-counter", "sliding-window-log", "concurrency"
    };

    private AotTraining() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        System.setProperty("micronaut.server.port", "-1");
        System.setProperty("micronaut.server.host", "127.0.0.1"); // the training serves only itself
        for (String algorithm : ALGORITHMS) {
            String prefix = "limiter.policies.aot-" + algorithm + ".";
            System.setProperty(prefix + "algorithm", algorithm);
            System.setProperty(prefix + "limit", "10");
            System.setProperty(prefix + (algorithm.equals("concurrency") ? "lease-ttl" : "period"), "1m");
        }
        int answered = serve(args, Map.of());
        String redis = System.getenv("SLUICE_AOT_REDIS_URIS");
        if (redis != null && !redis.isBlank()) {
            // the Redis Cluster path too: Lettuce's client, discovery, the scripts, the time budget
            answered += serve(args, Map.of("redis.uris", redis));
        }
        System.out.println("AOT training: " + answered + " requests answered");
        System.exit(0);
    }

    /** Starts the service with {@code properties}, drives it, stops it; the number of responses. */
    private static int serve(String[] args, Map<String, Object> properties) throws IOException, InterruptedException {
        try (ApplicationContext context = Micronaut.build(args)
                .mainClass(Application.class)
                .properties(properties)
                .start()) {
            int port = context.getBean(EmbeddedServer.class).getPort();
            return drive(URI.create("http://127.0.0.1:" + port));
        }
    }

    /** Sends the training traffic; returns the number of responses, of any status. */
    static int drive(URI base) throws IOException, InterruptedException {
        Map<Integer, Integer> statuses = new TreeMap<>();
        try (HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            for (int i = 0; i < CHECKS_PER_POLICY; i++) {
                for (String algorithm : ALGORITHMS) {
                    String policy = "aot-" + algorithm;
                    String key = "k" + (i % 3);
                    count(statuses, post(client, base, "/v1/check", check(policy, key, 1)));
                    if (i % 10 == 0) {
                        count(statuses, post(client, base, "/v1/check", check(policy, key, 0)));
                        count(statuses, send(client, base, "GET", "/v1/limits/" + policy + "/" + key, null));
                    }
                }
                if (i % 10 == 0) {
                    count(
                            statuses,
                            post(
                                    client,
                                    base,
                                    "/v1/check",
                                    "{\"checks\":[" + check("aot-token-bucket", "m" + i, 1) + ","
                                            + check("aot-fixed-window", "m" + i, 1) + "]}"));
                }
            }
            for (String algorithm : ALGORITHMS) {
                count(statuses, send(client, base, "DELETE", "/v1/limits/aot-" + algorithm + "/k0", null));
            }
            count(statuses, send(client, base, "DELETE", "/v1/leases/not-a-lease", null));
            String[] bad = {
                "{",
                "{\"policy\":\"aot-gcra\"}",
                "{\"policy\":\"no-such-policy\",\"key\":\"k\"}",
                "[]",
                "{\"policy\":\"aot-gcra\",\"key\":\"k\",\"cost\":-1}"
            };
            for (int i = 0; i < 20; i++) {
                for (String body : bad) {
                    count(statuses, post(client, base, "/v1/check", body));
                }
                count(statuses, send(client, base, "GET", "/health", null));
                count(statuses, send(client, base, "GET", "/health/liveness", null));
                count(statuses, send(client, base, "GET", "/health/readiness", null));
            }
            count(statuses, send(client, base, "GET", "/prometheus", null));
        }
        System.out.println("AOT training: responses by status " + statuses);
        return statuses.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static String check(String policy, String key, int cost) {
        return String.format(Locale.ROOT, "{\"policy\":\"%s\",\"key\":\"%s\",\"cost\":%d}", policy, key, cost);
    }

    private static int post(HttpClient client, URI base, String path, String body)
            throws IOException, InterruptedException {
        return send(client, base, "POST", path, body);
    }

    private static int send(HttpClient client, URI base, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private static void count(Map<Integer, Integer> statuses, int status) {
        statuses.merge(status, 1, Integer::sum);
    }
}
