package dev.sluice.limiter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.store.Subject;
import dev.sluice.store.redis.KeyScheme;
import dev.sluice.testkit.Haproxy;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisNode;
import io.lettuce.core.cluster.SlotHash;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, part 1: a shard that fails degrades the subjects on that shard only. Three nodes behind
 * haproxy on a 6-node Redis Cluster of the test's own, a {@code local} policy of 50 per 10 s, load
 * on 9 keys spread over the three shards; each master is killed (SIGKILL) in turn, one run each:
 * keys on the healthy shards are never degraded and stay within their bound, keys on the killed
 * shard stay within the local mode's bound, no 5xx, and the killed shard is decided by Redis again
 * once its replica is promoted. The nodes log one line per shard per change, not one per call.
 */
class ShardFailureIT {
    private static final int LIMIT = 50;
    private static final long PERIOD_S = 10;
    private static final long RUN_MS = 9_000;
    private static final long KILL_AT_MS = 2_000;
    private static final int CLIENTS = 12;
    private static final KeyScheme KEYS = new KeyScheme("sl:");
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private record Tally(
            AtomicInteger admitted,
            AtomicInteger degraded,
            AtomicInteger failed,
            AtomicInteger localAdmitted,
            List<String> timeline) {
        Tally() {
            this(
                    new AtomicInteger(),
                    new AtomicInteger(),
                    new AtomicInteger(),
                    new AtomicInteger(),
                    java.util.Collections.synchronizedList(new ArrayList<>()));
        }
    }

    @Test
    void aKilledMasterDegradesTheSubjectsOnItsShardOnly() throws Exception {
        try (RedisCluster cluster = RedisCluster.start(3, 1)) {
            // Redis's default (yes) stops every shard from answering while any slot is uncovered —
            // between a master's failure and its replica's promotion, healthy shards answer
            // CLUSTERDOWN too; docs/operations.md tells operators to turn it off
            cluster.nodes().forEach(n -> n.call("CONFIG", "SET", "cluster-require-full-coverage", "no"));
            List<ServiceNode> nodes = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    nodes.add(ServiceNode.start(Map.of(
                            "redis.uris",
                            cluster.uris(),
                            "limiter.policies.shard.limit",
                            LIMIT,
                            "limiter.policies.shard.period",
                            PERIOD_S + "s",
                            "limiter.policies.shard.on-store-failure",
                            "local")));
                }
                // every line the service logs at INFO or above during a run (the root logger: the
                // breakers, the store's health, the connections, the reconciliation, Lettuce, ...)
                ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                        new ch.qos.logback.core.read.ListAppender<>();
                lines.start();
                List<ch.qos.logback.classic.Logger> watched = List.of((ch.qos.logback.classic.Logger)
                        org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME));
                watched.forEach(l -> l.addAppender(lines));
                try (Haproxy lb =
                        Haproxy.start(nodes.stream().map(ServiceNode::port).toList())) {
                    List<String> report = new ArrayList<>();
                    for (int run = 0; run < 3; run++) {
                        cluster.awaitHealthy(Duration.ofSeconds(30));
                        RedisNode victim =
                                cluster.masters().get(run % cluster.masters().size());
                        lines.list.clear();
                        report.add(run(cluster, lb, victim, run));
                        List<ch.qos.logback.classic.spi.ILoggingEvent> logged = lines.list.stream()
                                .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.INFO))
                                .filter(e -> !e.getLoggerName().startsWith("dev.sluice.testkit"))
                                // Netty's complaint about a handshake timer firing on a stopped loop
                                // comes from the nodes of earlier test classes in this JVM, closed
                                // while connecting (seen in CI: 3 lines in one run)
                                .filter(e -> !e.getLoggerName().startsWith("io.netty.util.concurrent.DefaultPromise"))
                                .toList();
                        Map<String, Long> perLogger = new java.util.TreeMap<>();
                        logged.forEach(e -> perLogger.merge(
                                e.getLoggerName().substring(e.getLoggerName().lastIndexOf('.') + 1), 1L, Long::sum));
                        report.add("  lines logged by the 3 nodes during the run: " + logged.size() + " " + perLogger);
                        // per node, for the killed shard and for the one its slots move to (a node
                        // killed in an earlier run may be promoted back): breaker opened / closed,
                        // shard failed / answers again (at most 8); the killed node cannot be
                        // reconnected to, and is again, or is still not after 10 s (at most 2);
                        // reconciled once, or stopped once (at most 2); the call budget's verdict that
                        // the node is sick (1); the count of service nodes, when a heartbeat on the
                        // dead shard misses (1) — at most 3 x 14. A line per call, per reconnect
                        // attempt or per sweep would be hundreds (before: ~2,800 in 4 s). Measured:
                        // 12 to 22
                        assertThat(logged.size())
                                .as("lines logged for one shard's failure by 3 nodes: " + perLogger)
                                .isLessThanOrEqualTo(42);
                        // after the failover no node stays degraded: the dead master's shard is
                        // forgotten once no call fails on it (before: sluice_store_degraded stayed 1
                        // until a restart)
                        org.awaitility.Awaitility.await()
                                .atMost(Duration.ofSeconds(20))
                                .untilAsserted(() -> assertThat(nodes)
                                        .allSatisfy(n -> assertThat(n.metric("sluice_store_degraded"))
                                                .isZero()));
                        // nor with a breaker open: the dead master's breaker, which no call asks for
                        // any more, is forgotten (before: sluice_store_breaker_state stayed 1 and
                        // /health said "open" for good after a failover, found black-box)
                        org.awaitility.Awaitility.await()
                                .atMost(Duration.ofSeconds(30))
                                .untilAsserted(() -> assertThat(nodes)
                                        .allSatisfy(n -> assertThat(n.metric("sluice_store_breaker_state"))
                                                .isZero()));
                        victim.restart(); // it rejoins as a replica of its promoted one
                        victim.call("CONFIG", "SET", "cluster-require-full-coverage", "no");
                    }
                    report.forEach(System.out::println);
                } finally {
                    watched.forEach(l -> l.detachAppender(lines));
                }
            } finally {
                nodes.forEach(ServiceNode::close);
            }
        }
    }

    /** One run: load on 3 keys per shard, {@code victim} killed after {@link #KILL_AT_MS}; asserts, and answers a line. */
    private static String run(RedisCluster cluster, Haproxy lb, RedisNode victim, int run) throws Exception {
        Map<String, Integer> shardOf = new LinkedHashMap<>();
        Map<Integer, Integer> perMaster = new ConcurrentHashMap<>();
        for (int i = 0; shardOf.size() < 9; i++) {
            String key = "r" + run + "-" + UUID.randomUUID().toString().substring(0, 8) + "-" + i;
            int port = cluster.masterPortForSlot(SlotHash.getSlot(KEYS.key(new Subject("shard", key), "tb")));
            if (perMaster.merge(port, 1, Integer::sum) <= 3) {
                shardOf.put(key, port);
            }
        }
        List<String> keys = List.copyOf(shardOf.keySet());
        Map<String, Tally> tallies = new ConcurrentHashMap<>();
        keys.forEach(k -> tallies.put(k, new Tally()));
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        long end = start + RUN_MS * 1_000_000;
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            clients.add(Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < end) {
                    String key = keys.get(Math.floorMod(next.getAndIncrement(), keys.size()));
                    Tally t = tallies.get(key);
                    try {
                        HttpResponse<String> r = HTTP.send(
                                HttpRequest.newBuilder(URI.create(lb.url() + "/v1/check"))
                                        .timeout(Duration.ofSeconds(5))
                                        .POST(HttpRequest.BodyPublishers.ofString(
                                                "{\"policy\":\"shard\",\"key\":\"" + key + "\"}"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            t.admitted().incrementAndGet();
                        } else if (r.statusCode() != 429) {
                            t.failed().incrementAndGet();
                        }
                        boolean degraded = r.body().contains("\"degraded\":true");
                        if (degraded) {
                            t.degraded().incrementAndGet();
                            if (r.statusCode() == 200) {
                                t.localAdmitted().incrementAndGet();
                            }
                        }
                        if (r.statusCode() == 200) {
                            t.timeline().add((System.nanoTime() - start) / 1_000_000 + (degraded ? "L" : "R"));
                        }
                        Thread.sleep(2);
                    } catch (Exception e) {
                        t.failed().incrementAndGet();
                    }
                }
            }));
        }
        Thread.sleep(KILL_AT_MS);
        victim.kill();
        for (Thread t : clients) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // the limit over the run: a full burst and the refill. The killed shard's keys, decided by
        // the local mode meanwhile, may also take (docs/resilience.md, "Bounds"), with n = 3 nodes
        // and divisor d = 3:
        //   n        one unit per node of rounding (the floor of each share's refill);
        //   d*ceil(B/d) - B   the shares' rounding up (3 x 17 of 50: 1);
        //   n        what each node last heard was left (r_i) stale by at most one admission: the
        //            keys are drained, admissions run at the refill rate L/P = 5/s, and every node
        //            checks every key far more often than every P/L = 200 ms;
        //   1        a write answered but not yet replicated when the master died (at 5 admissions
        //            a second, at most one in a replication lag under 200 ms).
        // Calls in flight at the kill (a consume that ran, its answer lost) add nothing: r_i did not
        // count them, and they answered no 200. A node charges a subject's debt before it decides
        // the subject by Redis again.
        int nodes = 3;
        int share = (LIMIT + nodes - 1) / nodes;
        int bound = LIMIT + (int) Math.ceil(LIMIT * seconds / PERIOD_S);
        int localBound = bound + nodes + (nodes * share - LIMIT) + nodes + 1;
        StringBuilder line = new StringBuilder("ShardFailureIT run " + run + ": master " + victim.port()
                + " killed; bound " + bound + " (the killed shard's, local mode: " + localBound
                + "); per key (shard: admitted/degraded/failed):");
        for (String k : keys) {
            Tally t = tallies.get(k);
            line.append(' ')
                    .append(shardOf.get(k) == victim.port() ? "KILLED:" : shardOf.get(k) + ":")
                    .append(t.admitted())
                    .append('/')
                    .append(t.degraded())
                    .append('/')
                    .append(t.failed())
                    .append(" (local ")
                    .append(t.localAdmitted())
                    .append(')');
            if (shardOf.get(k) == victim.port()) {
                System.out.println("timeline " + k + ": " + t.timeline());
            }
        }
        // the killed shard is decided by Redis again once its replica is promoted: a look is no
        // longer degraded (measured and reported with the run)
        long recovered = System.nanoTime();
        for (String k : keys) {
            if (shardOf.get(k) == victim.port()) {
                org.awaitility.Awaitility.await()
                        .atMost(Duration.ofSeconds(20))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> !HTTP.send(
                                        HttpRequest.newBuilder(URI.create(lb.url() + "/v1/limits/shard/" + k))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .body()
                                .contains("\"degraded\":true"));
            }
        }
        line.append("; the killed shard's looks answered by Redis ")
                .append((System.nanoTime() - recovered) / 1_000_000)
                .append(" ms after the load ended");
        System.out.println(line);
        for (String k : keys) {
            Tally t = tallies.get(k);
            boolean onVictim = shardOf.get(k) == victim.port();
            assertThat(t.failed().get()).as(k + ": no 5xx, no error").isZero();
            if (onVictim) {
                assertThat(t.degraded().get())
                        .as(k + " on the killed shard: degraded while it failed over")
                        .isPositive();
                assertThat(t.admitted().get())
                        .as(k + " on the killed shard: within the local bound")
                        .isLessThanOrEqualTo(localBound);
            } else {
                assertThat(t.degraded().get())
                        .as(k + " on a healthy shard: never degraded")
                        .isZero();
                assertThat(t.admitted().get())
                        .as(k + " on a healthy shard: exact")
                        .isLessThanOrEqualTo(bound);
            }
        }
        return line.toString();
    }
}
