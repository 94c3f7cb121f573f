package dev.sluice.limiter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.Haproxy;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15: on a healthy Redis Cluster a busy node or a busy store never yields a degraded
 * decision. Every algorithm × every failure mode, limit 10 per hour:
 *
 * <ul>
 *   <li>bursts of 30, 100 and 1,000 concurrent checks of one key, the first right after a fresh
 *       node has started (its context is up, so {@code /health} answers), over real HTTP: exactly 10
 *       admitted, 0 degraded, 0 5xx;
 *   <li>three nodes behind haproxy (keep-alive to the nodes), their JIT warmed by 8 s of wrk, then
 *       saturated by wrk for 6 s each: {@code -c32} and {@code -c256} cycling through every policy
 *       on one key per policy, and {@code -c256} on the concurrency policies alone (the heaviest
 *       scripts, on one slot): exactly 10 admitted per policy and key, 0 degraded, 0 5xx, 0 socket
 *       errors.
 * </ul>
 */
@ExtendWith(RedisServersExtension.class)
class ExactUnderLoadIT {
    private static final int LIMIT = 10;
    private static final Duration RUN = Duration.ofSeconds(6);
    private static final List<String> ALGORITHMS = List.of(
            "token-bucket", "gcra", "fixed-window", "sliding-window-counter", "sliding-window-log", "concurrency");
    private static final List<String> MODES = List.of("open", "closed", "local");

    private static Map<String, Object> properties(List<String> modes) {
        Map<String, Object> p = new HashMap<>();
        p.put("redis.uris", RedisServers.cluster().uris());
        for (String mode : modes) {
            for (String algorithm : ALGORITHMS) {
                String name = "limiter.policies." + algorithm + "-" + mode;
                p.put(name + ".algorithm", algorithm);
                p.put(name + ".limit", LIMIT);
                if (algorithm.equals("concurrency")) {
                    p.put(name + ".lease-ttl", "1h");
                } else {
                    p.put(name + ".period", "1h");
                }
                p.put(name + ".on-store-failure", mode);
            }
        }
        return p;
    }

    /** What one burst got back. */
    record Tally(int admitted, int denied, int degraded, int serverErrors, int other) {}

    private static Tally burst(HttpClient http, String url, String policy, String key, int n) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/v1/check"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\"}"))
                .build();
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            sent.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        int admitted = 0, denied = 0, degraded = 0, errors = 0, other = 0;
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            HttpResponse<String> r;
            try {
                r = f.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                other++;
                continue;
            }
            if (r.body().contains("\"degraded\":true")) {
                degraded++;
            }
            switch (r.statusCode()) {
                case 200 -> admitted++;
                case 429 -> denied++;
                default -> {
                    if (r.statusCode() >= 500) {
                        errors++;
                    } else {
                        other++;
                    }
                }
            }
        }
        return new Tally(admitted, denied, degraded, errors, other);
    }

    /** The fixed window and the counter count per aligned hour: a run that crosses one may admit twice. */
    private static int windowsSpanned(long startMillis, long endMillis) {
        return (int) (endMillis / 3_600_000 - startMillis / 3_600_000) + 1;
    }

    private static int bound(String algorithm, int windows) {
        return switch (algorithm) {
            case "fixed-window", "sliding-window-counter" -> LIMIT * windows;
            default -> LIMIT;
        };
    }

    @Test
    void burstsOnAFreshNodeAdmitExactlyTheLimitWithNoDegradedDecision() {
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .executor(java.util.concurrent.Executors.newFixedThreadPool(4))
                .build();
        List<String> failures = new ArrayList<>();
        for (String mode : MODES) {
            try (ServiceNode node = ServiceNode.start(properties(List.of(mode)))) {
                // the context is up: /health answers, the node takes traffic now
                assertThat(ServiceNode.get(node.url(), "/health").statusCode()).isEqualTo(200);
                for (int size : new int[] {1000, 100, 30}) {
                    for (String algorithm : ALGORITHMS) {
                        String policy = algorithm + "-" + mode;
                        long start = System.currentTimeMillis();
                        Tally t = burst(http, node.url(), policy, "burst-" + size + "-" + start, size);
                        int bound = bound(algorithm, windowsSpanned(start, System.currentTimeMillis()));
                        String line = String.format(
                                "ExactUnderLoadIT burst %4d %-28s admitted %d (bound %d), denied %d, degraded %d,"
                                        + " 5xx %d, other %d",
                                size,
                                policy,
                                t.admitted(),
                                bound,
                                t.denied(),
                                t.degraded(),
                                t.serverErrors(),
                                t.other());
                        System.out.println(line);
                        if (t.admitted() < LIMIT
                                || t.admitted() > bound
                                || t.degraded() > 0
                                || t.serverErrors() > 0
                                || t.other() > 0) {
                            failures.add(line);
                        }
                    }
                }
            }
        }
        assertThat(failures).as("bursts that were not exact").isEmpty();
    }

    @Test
    void threeNodesBehindHaproxyAtSaturationStayExact() throws Exception {
        List<ServiceNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(ServiceNode.start(properties(MODES)));
            }
            try (Haproxy lb =
                    Haproxy.start(nodes.stream().map(ServiceNode::port).toList())) {
                // warm the nodes' JIT first, so that the runs below saturate them (cold, a node
                // answers a tenth of what it answers warm, and the store is never busy)
                Wrk.run(lb.url(), 64, Duration.ofSeconds(8), "warm-" + System.nanoTime(), List.of("token-bucket-open"));
                List<String> failures = new ArrayList<>();
                // every policy in turn, then the concurrency policies alone: their scripts are the
                // heaviest, and alone they keep Redis busiest on one slot
                saturate(lb, 32, ALGORITHMS, failures);
                saturate(lb, 256, ALGORITHMS, failures);
                saturate(lb, 256, List.of("concurrency"), failures);
                assertThat(failures).as("saturation runs that were not exact").isEmpty();
            }
        } finally {
            nodes.forEach(ServiceNode::close);
        }
    }

    private static void saturate(Haproxy lb, int connections, List<String> algorithms, List<String> failures)
            throws Exception {
        List<String> policies = new ArrayList<>();
        for (String mode : MODES) {
            for (String algorithm : algorithms) {
                policies.add(algorithm + "-" + mode);
            }
        }
        String key = "sat-" + connections + "-" + System.nanoTime();
        long start = System.currentTimeMillis();
        Wrk.Result r = Wrk.run(lb.url(), connections, RUN, key, policies);
        int windows = windowsSpanned(start, System.currentTimeMillis());
        String run = "-c" + connections + " " + (algorithms.size() == 1 ? algorithms.get(0) : "all") + ": ";
        System.out.printf(
                "ExactUnderLoadIT saturation %s%d requests (%.0f/s), 5xx %d, other non-2xx/429 %d, degraded %d,"
                        + " socket errors %d; admitted per policy %s%n",
                run,
                r.requests(),
                r.requests() / (double) RUN.toSeconds(),
                r.serverErrors(),
                r.other(),
                r.degraded(),
                r.socketErrors(),
                r.admitted());
        if (r.serverErrors() > 0 || r.degraded() > 0 || r.other() > 0 || r.socketErrors() > 0) {
            failures.add(run + r);
        }
        for (String mode : MODES) {
            for (String algorithm : algorithms) {
                String policy = algorithm + "-" + mode;
                int admitted = r.admitted().getOrDefault(policy, 0);
                if (admitted < LIMIT || admitted > bound(algorithm, windows)) {
                    failures.add(run + policy + ": admitted " + admitted);
                }
            }
        }
        // enough load to matter: every policy saw many more checks than its limit
        assertThat(r.requests()).isGreaterThan(20L * policies.size() * LIMIT);
    }

    /** wrk with a script that cycles through every policy on one key and tallies the answers' bodies. */
    static final class Wrk {
        record Result(
                long requests,
                long serverErrors,
                long other,
                long degraded,
                long socketErrors,
                Map<String, Integer> admitted) {}

        static Result run(String url, int connections, Duration duration, String key, List<String> policies)
                throws Exception {
            Path dir = Files.createTempDirectory("sluice-wrk-");
            StringBuilder lua = new StringBuilder("local policies = {");
            for (String p : policies) {
                lua.append('"').append(p).append("\",");
            }
            lua.append("}\n")
                    .append("local requests = {}\nlocal i = 0\nlocal threads = {}\n")
                    .append("function setup(thread) table.insert(threads, thread) end\n")
                    .append("function init(args)\n")
                    .append("  for n, p in ipairs(policies) do\n")
                    .append("    requests[n] = wrk.format('POST', '/v1/check', {['Content-Type']='application/json'},")
                    .append(" '{\"policy\":\"' .. p .. '\",\"key\":\"")
                    .append(key)
                    .append("\"}')\n")
                    .append("  end\n")
                    .append("  errors5 = 0; other = 0; degraded = 0; admitted = {}\n")
                    .append("end\n")
                    .append("function request() i = i % #requests + 1; return requests[i] end\n")
                    .append("function response(status, headers, body)\n")
                    .append("  if status >= 500 then errors5 = errors5 + 1\n")
                    .append("  elseif status ~= 200 and status ~= 429 then other = other + 1 end\n")
                    .append("  if string.find(body, '\"degraded\":true', 1, true) then degraded = degraded + 1 end\n")
                    .append("  if status == 200 then\n")
                    .append("    local p = string.match(body, '\"policy\":\"([^\"]+)\"')\n")
                    .append("    if p then admitted[p] = (admitted[p] or 0) + 1 end\n")
                    .append("  end\n")
                    .append("end\n")
                    .append("function done(summary, latency, requests)\n")
                    .append("  local e, o, d, a = 0, 0, 0, {}\n")
                    .append("  for _, t in ipairs(threads) do\n")
                    .append("    e = e + t:get('errors5'); o = o + t:get('other'); d = d + t:get('degraded')\n")
                    .append("    for p, n in pairs(t:get('admitted')) do a[p] = (a[p] or 0) + n end\n")
                    .append("  end\n")
                    .append(
                            "  io.write(string.format('TALLY requests=%d errors5=%d other=%d degraded=%d socket=%d\\n',")
                    .append(" summary.requests, e, o, d, summary.errors.connect + summary.errors.read +")
                    .append(" summary.errors.write + summary.errors.timeout))\n")
                    .append("  for p, n in pairs(a) do io.write(string.format('ADMITTED %s %d\\n', p, n)) end\n")
                    .append("end\n");
            Path script = Files.writeString(dir.resolve("check.lua"), lua.toString());
            Path out = dir.resolve("wrk.out");
            Process wrk = new ProcessBuilder(
                            "wrk",
                            "-t2",
                            "-c" + connections,
                            "-d" + duration.toSeconds() + "s",
                            "--timeout",
                            "10s",
                            "-s",
                            script.toString(),
                            url)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            try {
                assertThat(wrk.waitFor(duration.toSeconds() + 30, TimeUnit.SECONDS))
                        .as("wrk finished")
                        .isTrue();
            } finally {
                wrk.destroyForcibly();
            }
            String text = Files.readString(out);
            text.lines()
                    .filter(l -> l.contains("Latency") || l.contains("Requests/sec"))
                    .forEach(l -> System.out.println("ExactUnderLoadIT wrk -c" + connections + ": " + l.strip()));
            Matcher t = Pattern.compile(
                            "TALLY requests=(\\d+) errors5=(\\d+) other=(\\d+) degraded=(\\d+) socket=(\\d+)")
                    .matcher(text);
            if (!t.find()) {
                throw new IOException("wrk printed no tally: " + text);
            }
            Map<String, Integer> admitted = new LinkedHashMap<>();
            Matcher a = Pattern.compile("ADMITTED (\\S+) (\\d+)").matcher(text);
            while (a.find()) {
                admitted.put(a.group(1), Integer.parseInt(a.group(2)));
            }
            return new Result(
                    Long.parseLong(t.group(1)),
                    Long.parseLong(t.group(2)),
                    Long.parseLong(t.group(3)),
                    Long.parseLong(t.group(4)),
                    Long.parseLong(t.group(5)),
                    admitted);
        }
    }
}
