package dev.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.Haproxy;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three service nodes behind a real haproxy, one subject, a load of 6x the limit for 6 s. The
 * naive per-node limiter (in-process store) admits about 3x the bound; with the Redis Cluster the
 * nodes together admit at most {@code burst + limit * elapsed / period}.
 */
@ExtendWith(RedisServersExtension.class)
class CrossNodeIT {
    private static final int LIMIT = 20;
    private static final int RATE = LIMIT * 6;
    private static final Duration LOAD = Duration.ofSeconds(6);

    record Result(
            int sent,
            int admitted,
            int degraded,
            int denied,
            int other,
            double elapsedSeconds,
            double bound,
            List<Double> perNode) {}

    private Result run(Map<String, Object> storeProperties, String label) throws Exception {
        List<ServiceNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Map<String, Object> props = new HashMap<>(storeProperties);
                props.put("limiter.policies.shared.limit", LIMIT);
                props.put("limiter.policies.shared.period", "1s");
                nodes.add(ServiceNode.start(props));
            }
            try (Haproxy lb =
                    Haproxy.start(nodes.stream().map(ServiceNode::port).toList())) {
                Result result = load(lb.url(), nodes);
                System.out.printf(
                        "CrossNodeIT [%s]: sent %d in %.2f s (%.0f/s, %.1fx the limit), admitted %d (%d by the"
                                + " failure mode after a budget overrun), denied %d, other %d;"
                                + " bound burst + rate x elapsed = %.1f; admitted/bound = %.2f; decisions per node %s%n",
                        label,
                        result.sent(),
                        result.elapsedSeconds(),
                        result.sent() / result.elapsedSeconds(),
                        result.sent() / result.elapsedSeconds() / LIMIT,
                        result.admitted(),
                        result.degraded(),
                        result.denied(),
                        result.other(),
                        result.bound(),
                        result.admitted() / result.bound(),
                        result.perNode());
                return result;
            }
        } finally {
            nodes.forEach(ServiceNode::close);
        }
    }

    private Result load(String url, List<ServiceNode> nodes) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/v1/check"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"shared\",\"key\":\"tenant-42\"}"))
                .timeout(Duration.ofSeconds(5))
                .build();
        int total = (int) (RATE * LOAD.toMillis() / 1000);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger degraded = new AtomicInteger();
        AtomicInteger denied = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        AtomicLong lastDone = new AtomicLong();
        ExecutorService workers = Executors.newFixedThreadPool(12);
        long start = System.nanoTime();
        List<java.util.concurrent.Future<Object>> running = new ArrayList<>();
        for (int w = 0; w < 12; w++) {
            running.add(workers.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < total) {
                    long due = start + i * 1_000_000_000L / RATE;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    try {
                        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                        switch (r.statusCode()) {
                            case 200 -> {
                                admitted.incrementAndGet();
                                if (r.body().contains("\"degraded\":true")) {
                                    degraded.incrementAndGet();
                                }
                            }
                            case 429 -> denied.incrementAndGet();
                            default -> other.incrementAndGet();
                        }
                    } catch (java.io.IOException e) {
                        other.incrementAndGet();
                    }
                    lastDone.accumulateAndGet(System.nanoTime(), Math::max);
                }
                return null;
            }));
        }
        workers.shutdown();
        assertThat(workers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        for (java.util.concurrent.Future<Object> worker : running) {
            worker.get(); // a worker's exception fails the test
        }
        double elapsed = (lastDone.get() - start) / 1e9;
        double bound = LIMIT + LIMIT * elapsed;
        List<Double> perNode = nodes.stream()
                .map(n -> n.context().getBean(MeterRegistry.class).find("sluice.decisions").counters().stream()
                        .mapToDouble(c -> c.count())
                        .sum())
                .toList();
        return new Result(total, admitted.get(), degraded.get(), denied.get(), other.get(), elapsed, bound, perNode);
    }

    @Test
    void perNodeBucketsAdmitAboutThreeTimesTheBoundAndTheClusterHoldsIt() throws Exception {
        Result naive = run(Map.of(), "in-process store, per node");
        Result shared = run(Map.of("redis.uris", RedisServers.cluster().uris()), "Redis Cluster, shared");

        for (Result r : List.of(naive, shared)) {
            assertThat(r.elapsedSeconds()).isGreaterThanOrEqualTo(5.0);
            assertThat(r.sent() / r.elapsedSeconds()).isGreaterThanOrEqualTo(5.0 * LIMIT);
            assertThat(r.other()).isZero();
            assertThat(r.perNode()).allSatisfy(n -> assertThat(n).isGreaterThan(r.sent() / 6.0));
        }
        // naive: each node has a bucket of its own, so the three together admit about 3x
        assertThat(naive.admitted()).isGreaterThan((int) (2.5 * naive.bound()));
        // shared: the global bound holds for what Redis decided, and the limiter is not merely denying
        // everything. A check whose Redis call overran the 10 ms budget on this loaded machine is
        // decided by the policy's failure mode (default open: admitted, "degraded":true); those are
        // counted apart and must stay rare (one was seen in a CI run).
        assertThat(shared.admitted() - shared.degraded()).isLessThanOrEqualTo((int) Math.floor(shared.bound()));
        assertThat(shared.degraded()).as("admissions by the failure mode").isLessThanOrEqualTo(shared.sent() / 100);
        assertThat(shared.admitted()).isGreaterThan((int) (0.8 * shared.bound()));
    }
}
