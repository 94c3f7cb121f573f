package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, part 1: a node never fails to start because the store answered late. Three nodes —
 * the service's own jar, as separate processes — are started at once while two threads keep both
 * CPUs busy, against a Redis Cluster whose only seed node is stopped (SIGSTOP): each node's first
 * discovery of the topology times out. Once every node has logged a failed attempt, the seed is let
 * run again; every node must then start, and a burst across the three decide exactly. A node whose
 * store never answers gives up after {@code limiter.redis.startup-timeout} with one clear line.
 */
class StartupDiscoveryIT {
    private static final Path JAR = Path.of("target", "sluice.jar");
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void threeNodesStartedAtOnceUnderLoadWaitForALateStoreAndThenDecideExactly() throws Exception {
        assertThat(JAR).as("the service jar (mvn package)").exists();
        try (RedisCluster cluster = RedisCluster.start(3, 1)) {
            // a replica as the only seed: stopped, it answers nothing, and no failover follows
            RedisNode seed = cluster.nodes().stream()
                    .filter(n -> !cluster.masters().contains(n))
                    .findFirst()
                    .orElseThrow();
            List<ManagedProcess> nodes = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            AtomicBoolean loaded = new AtomicBoolean(true);
            List<Thread> load = new ArrayList<>();
            seed.pause();
            try {
                for (int i = 0; i < 2; i++) { // both CPUs busy beside the starting nodes, for at most 3 min
                    long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                    load.add(Thread.ofPlatform().daemon().start(() -> {
                        long x = 0;
                        while (loaded.get() && System.nanoTime() < until) {
                            x += System.nanoTime() % 7;
                        }
                        if (x == 42) {
                            System.out.print("");
                        }
                    }));
                }
                for (int i = 0; i < 3; i++) {
                    int port = FreePorts.any();
                    ports.add(port);
                    nodes.add(start(port, seed.uri(), "60s"));
                }
                // every node's first attempt failed on the silent seed, and the node is still there
                await().atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(200))
                        .untilAsserted(() -> assertThat(nodes).allSatisfy(n -> {
                            assertThat(n.isAlive())
                                    .as("%s alive (log %s)", n.name(), n.log())
                                    .isTrue();
                            assertThat(Files.readString(n.log()))
                                    .contains("Redis Cluster not reached at start-up (attempt 1");
                        }));
                seed.resume();
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(200))
                        .untilAsserted(() -> assertThat(ports).allSatisfy(p -> {
                            assertThat(nodes).allSatisfy(n -> assertThat(n.isAlive())
                                    .as("%s alive (log %s)", n.name(), n.log())
                                    .isTrue());
                            assertThat(status(p, "/health")).isEqualTo(200);
                        }));
                loaded.set(false);
                for (ManagedProcess n : nodes) {
                    String log = Files.readString(n.log());
                    System.out.println("StartupDiscoveryIT " + n.name() + ": "
                            + log.lines()
                                    .filter(l -> l.contains("StartupConnect"))
                                    .count()
                            + " start-up lines; "
                            + log.lines()
                                    .filter(l -> l.contains("reached at start-up after"))
                                    .findFirst()
                                    .orElse("(no 'reached' line)"));
                    assertThat(log).contains("Redis Cluster reached at start-up after");
                }
                // the nodes decide on the store, exactly: 300 concurrent checks of one key over
                // the three nodes, a limit of 10
                List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    sent.add(HTTP.sendAsync(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(i % 3) + "/v1/check"))
                                    .timeout(Duration.ofSeconds(30))
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            "{\"policy\":\"start\",\"key\":\"after-start\"}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
                }
                int admitted = 0, denied = 0, degraded = 0, other = 0;
                for (CompletableFuture<HttpResponse<String>> f : sent) {
                    HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                    if (r.body().contains("\"degraded\":true")) {
                        degraded++;
                    }
                    switch (r.statusCode()) {
                        case 200 -> admitted++;
                        case 429 -> denied++;
                        default -> other++;
                    }
                }
                // the nodes' warm-up rehearses the failure modes on subjects of its own and counts
                // them nowhere: nothing of it reaches the store (a sweep once wrote them there)
                for (RedisNode master : cluster.masters()) {
                    assertThat((List<?>) master.call("KEYS", "*sluice-warm-up*"))
                            .as("warm-up subjects in Redis on " + master.port())
                            .isEmpty();
                }
                System.out.printf(
                        "StartupDiscoveryIT burst of 300: admitted %d, denied %d, degraded %d, other %d%n",
                        admitted, denied, degraded, other);
                assertThat(admitted).isEqualTo(10);
                assertThat(denied).isEqualTo(290);
                assertThat(degraded).isZero();
                assertThat(other).isZero();
            } finally {
                loaded.set(false);
                for (Thread t : load) {
                    t.join();
                }
                seed.resume();
                nodes.forEach(ManagedProcess::close);
            }
        }
    }

    @Test
    void aNodeWhoseStoreNeverAnswersGivesUpAfterTheStartupTimeoutWithOneClearLine() throws Exception {
        int closed = FreePorts.any(); // nothing listens there
        try (ManagedProcess node = start(FreePorts.any(), "redis://127.0.0.1:" + closed, "3s")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> !node.isAlive());
            String log = Files.readString(node.log());
            assertThat(log).contains("Redis Cluster not reached at start-up (attempt 1: ");
            assertThat(log)
                    .containsPattern(
                            "Redis Cluster not reached within limiter.redis.startup-timeout \\(3 s, \\d+ attempts\\); last: .*Connection refused");
            assertThat(log.lines().filter(l -> l.contains("StartupConnect")).count())
                    .as("one line per attempt, with back-off: a handful in 3 s, not a flood")
                    .isBetween(2L, 12L);
        }
    }

    /** A node of the service's jar on {@code port}, seeded with {@code seed}, as an operator starts it. */
    private static ManagedProcess start(int port, String seed, String startupTimeout) throws Exception {
        Path dir = Files.createTempDirectory("sluice-node-");
        String java = ProcessHandle.current().info().command().orElse("java");
        return ManagedProcess.start(
                "sluice:" + port,
                List.of(
                        java,
                        "-Dmicronaut.server.port=" + port,
                        "-Dmicronaut.server.host=127.0.0.1",
                        "-Dredis.uris=" + seed,
                        "-Dlimiter.redis.startup-timeout=" + startupTimeout,
                        "-Dlimiter.policies.start.limit=10",
                        "-Dlimiter.policies.start.period=1h",
                        "-Dlimiter.policies.start.on-store-failure=open",
                        "-jar",
                        JAR.toAbsolutePath().toString()),
                dir,
                dir.resolve("node.log"));
    }

    private static int status(int port, String path) {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
