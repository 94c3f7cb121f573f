package dev.sluice.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.toxiproxy.ToxiproxyServer;
import dev.sluice.core.Limit;
import dev.sluice.core.Outcome;
import dev.sluice.core.TokenBucket;
import dev.sluice.store.Subject;
import dev.sluice.store.redis.KeyScheme;
import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.Haproxy;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisNode;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Multi-region mode on real servers (issue 18): three regions on loopback, each with its own Redis
 * (region a a 6-node Redis Cluster, b and c one Redis each) and two Sluice nodes behind haproxy; the
 * links between regions through Toxiproxy (150 ms round trip, ±20 ms). A global token bucket of 100
 * per second (burst 100) under an offered load of twice that, spread uniformly and 80/10/10; a
 * partition of one region and its heal; duplicated and reordered deliveries; bad and unauthenticated
 * deliveries; a regional policy next to it, unaffected.
 *
 * <p>O = (admitted − allowance) / allowance over the measured span, allowance = burst + L·T/W. FR =
 * how many more checks one exact bucket, fed the same checks at the same times, would have admitted,
 * as a fraction of the checks.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiRegionIT {
    private static final String TOKEN = "region-secret-0123456789";
    private static final List<String> REGIONS = List.of("a", "b", "c");
    private static final long L = RegionTopology.GLOBAL_LIMIT;
    private static final Limit GLOBAL = new Limit(L, L, 1000);
    /** How long region c is cut off: 60 s, or {@code -Dsluice.partition.seconds} (600 for 10 min). */
    private static final int PARTITION_SECONDS = Integer.getInteger("sluice.partition.seconds", 60);

    /**
     * Runs a second load beside a test's own: not the common pool, whose one thread on a 2-core
     * machine the nodes in this JVM need too (an offer blocking it stalled their answers).
     */
    private static final java.util.concurrent.ExecutorService BESIDE = Executors.newCachedThreadPool();

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    private static ToxiproxyServer toxiproxy;
    private static ToxiproxyClient client;
    private static RedisCluster cluster;
    private static final List<RedisNode> standalone = new ArrayList<>();
    private static final Map<String, RedisNode> redisOf = new HashMap<>();
    private static final List<ApplicationContext> nodes = new ArrayList<>();
    /** Each node's configuration, its port filled in once started (a restart reuses it). */
    private static final List<Map<String, Object>> config = new ArrayList<>();

    private static final Map<String, Haproxy> lb = new LinkedHashMap<>();
    /** The proxy carrying region x's shipments to region y, by "x-y". */
    private static final Map<String, Proxy> links = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        toxiproxy = ToxiproxyServer.start(0);
        URI t = URI.create(toxiproxy.url());
        client = new ToxiproxyClient(t.getHost(), t.getPort());
        cluster = RedisCluster.start(3, 1);
        for (String r : List.of("b", "c")) {
            RedisNode n = RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-region-" + r), List.of());
            standalone.add(n);
            redisOf.put(r, n);
        }
        Map<String, Integer> linkPort = new HashMap<>();
        for (String x : REGIONS) {
            for (String y : REGIONS) {
                if (!x.equals(y)) {
                    linkPort.put(x + "-" + y, FreePorts.any());
                }
            }
        }
        for (String r : REGIONS) {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Map<String, Object> p = new HashMap<>();
                p.put("micronaut.server.port", -1);
                if (r.equals("a")) {
                    p.put("redis.uris", cluster.uris());
                } else {
                    p.put("redis.uri", redisOf.get(r).uri());
                }
                Map<String, String> peers = new LinkedHashMap<>();
                for (String y : REGIONS) {
                    if (!y.equals(r)) {
                        peers.put(y, "http://127.0.0.1:" + linkPort.get(r + "-" + y));
                    }
                }
                // as docker-compose.multi.yml has it (ComposeTopologyTest)
                p.putAll(RegionTopology.region(r, TOKEN, peers));
                p.putAll(RegionTopology.policies());
                EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, p);
                nodes.add(server.getApplicationContext());
                ports.add(server.getPort());
                p.put("micronaut.server.port", server.getPort());
                config.add(p);
            }
            lb.put(r, Haproxy.start(ports));
        }
        for (Map.Entry<String, Integer> e : linkPort.entrySet()) {
            String to = e.getKey().substring(2);
            Proxy proxy = client.createProxy(
                    "link-" + e.getKey(),
                    "127.0.0.1:" + e.getValue(),
                    "127.0.0.1:" + lb.get(to).port());
            // 150 ms ± 20 ms round trip: 75 ± 10 each way
            proxy.toxics()
                    .latency("out", ToxicDirection.UPSTREAM, RegionTopology.ONE_WAY_MS)
                    .setJitter(RegionTopology.JITTER_MS);
            proxy.toxics()
                    .latency("back", ToxicDirection.DOWNSTREAM, RegionTopology.ONE_WAY_MS)
                    .setJitter(RegionTopology.JITTER_MS);
            links.put(e.getKey(), proxy);
        }
    }

    @AfterAll
    static void stop() {
        lb.values().forEach(Haproxy::close);
        nodes.forEach(ApplicationContext::close);
        if (cluster != null) {
            cluster.close();
        }
        standalone.forEach(RedisNode::close);
        if (toxiproxy != null) {
            toxiproxy.close();
        }
    }

    /** One check as sent: region, when (ns, client clock), and its answer. */
    record Sent(String region, long atNanos, int status) {}

    /**
     * Offers {@code perSecond.get(region)} checks a second of {@code policy}/{@code key} to each
     * region's load balancer for {@code seconds}, evenly spaced; returns every answer.
     */
    static List<Sent> offer(String policy, String key, Map<String, Integer> perSecond, double seconds)
            throws InterruptedException {
        ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
        AtomicLong inFlight = new AtomicLong();
        String body = "{\"policy\":\"" + policy + "\",\"key\":\"" + key + "\"}";
        try {
            for (Map.Entry<String, Integer> e : perSecond.entrySet()) {
                if (e.getValue() == 0) {
                    continue;
                }
                HttpRequest request = HttpRequest.newBuilder(
                                URI.create(lb.get(e.getKey()).url() + "/v1/check"))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(5))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
                long every = 1_000_000_000L / e.getValue();
                timer.scheduleAtFixedRate(
                        () -> {
                            long at = System.nanoTime();
                            inFlight.incrementAndGet();
                            HTTP.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                                    .whenComplete((r, x) -> {
                                        sent.add(new Sent(e.getKey(), at, x == null ? r.statusCode() : -1));
                                        inFlight.decrementAndGet();
                                    });
                        },
                        0,
                        every,
                        TimeUnit.NANOSECONDS);
            }
            Thread.sleep((long) (seconds * 1000));
        } finally {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
        }
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> inFlight.get() == 0);
        return new ArrayList<>(sent);
    }

    /** {@link #offer} on {@link #BESIDE}, beside what the test does meanwhile. */
    static java.util.concurrent.CompletableFuture<List<Sent>> offerBeside(
            String policy, String key, Map<String, Integer> perSecond, double seconds) {
        return java.util.concurrent.CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return offer(policy, key, perSecond, seconds);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                },
                BESIDE);
    }

    /** GET /v1/regions/{policy}/{key} from {@code region}'s load balancer: the body. */
    static String regionState(String region, String policy, String key) throws Exception {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create(lb.get(region).url() + "/v1/regions/" + policy + "/" + key))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** POST /v1/check with {@code body} to {@code region}'s load balancer. */
    static HttpResponse<String> check(String region, String body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(lb.get(region).url() + "/v1/check"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The measured figures of the checks sent from {@code fromNanos} on. */
    record Figures(
            long checks,
            long admitted,
            long errors,
            double seconds,
            double o,
            double fr,
            long exact,
            double oWindow,
            double allowance) {}

    /**
     * The largest O over every window of length W (1 s) that starts at a check sent from {@code
     * fromNanos} on: admitted in it against burst + L.
     */
    static double worstWindow(Limit limit, List<Sent> sorted, long fromNanos) {
        long w = TimeUnit.MILLISECONDS.toNanos(limit.periodMs());
        List<Long> admitted = sorted.stream()
                .filter(s -> s.status() == 200 && s.atNanos() >= fromNanos)
                .map(Sent::atNanos)
                .toList();
        double worst = -1;
        int j = 0;
        for (int i = 0; i < admitted.size(); i++) {
            while (j < admitted.size() && admitted.get(j) < admitted.get(i) + w) {
                j++;
            }
            double allowance = limit.burst() + limit.limit();
            worst = Math.max(worst, (j - i - allowance) / allowance);
        }
        return worst;
    }

    static Figures figures(List<Sent> all, long fromNanos) {
        return figures(GLOBAL, all, fromNanos);
    }

    /** As above, against one exact bucket of {@code limit}. */
    static Figures figures(Limit limit, List<Sent> all, long fromNanos) {
        List<Sent> sorted = new ArrayList<>(all);
        sorted.sort(java.util.Comparator.comparingLong(Sent::atNanos));
        String state = null;
        long exact = 0;
        long checks = 0;
        long admitted = 0;
        long errors = 0;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Sent s : sorted) {
            Outcome o = TokenBucket.decide(limit, state, 1, s.atNanos() / 1000);
            if (o.write() != null) {
                state = o.write();
            }
            if (s.atNanos() < fromNanos) {
                continue;
            }
            checks++;
            first = Math.min(first, s.atNanos());
            last = Math.max(last, s.atNanos());
            if (o.decision().allowed()) {
                exact++;
            }
            if (s.status() == 200) {
                admitted++;
            } else if (s.status() != 429) {
                errors++;
            }
        }
        double seconds = (last - first) / 1e9;
        double allowance = limit.burst() + limit.limit() * seconds * 1000 / limit.periodMs();
        return new Figures(
                checks,
                admitted,
                errors,
                seconds,
                (admitted - allowance) / allowance,
                Math.max(0, exact - admitted) / (double) checks,
                exact,
                worstWindow(limit, sorted, fromNanos),
                allowance);
    }

    private static void report(String what, Figures f) {
        System.out.printf(
                "multi-region %s: %d checks over %.1f s, admitted %d (exact bucket %d, allowance %.0f), O %.4f, FR %.4f,"
                        + " errors %d, worst W window O %.4f%n",
                what,
                f.checks(),
                f.seconds(),
                f.admitted(),
                f.exact(),
                f.allowance(),
                f.o(),
                f.fr(),
                f.errors(),
                f.oWindow());
    }

    @Test
    @Order(1)
    void steadyUniformLoadHoldsTheGlobalLimit() throws Exception {
        long start = System.nanoTime();
        List<Sent> sent = offer("global", "uniform", Map.of("a", 67, "b", 67, "c", 66), 14);
        Figures f = figures(sent, start + TimeUnit.SECONDS.toNanos(4));
        report("uniform 2x L", f);
        againstTheSimulator("uniform 2x L", f, Map.of("a", 67, "b", 67, "c", 66), 4, 10, List.of(), 0.01, L, 1_000_000);
        assertThat(f.errors()).isZero();
        assertThat(f.oWindow()).isLessThanOrEqualTo(0.02);
        assertThat(f.o()).isLessThanOrEqualTo(0.05);
        assertThat(f.fr()).isLessThanOrEqualTo(0.01);
    }

    @Test
    @Order(2)
    void skewedLoadConvergesToTheLimit() throws Exception {
        long start = System.nanoTime();
        List<Sent> sent = offer("global", "skewed", Map.of("a", 160, "b", 20, "c", 20), 14);
        Figures f = figures(sent, start + TimeUnit.SECONDS.toNanos(4));
        report("80/10/10 2x L", f);
        againstTheSimulator(
                "80/10/10 2x L", f, Map.of("a", 160, "b", 20, "c", 20), 4, 10, List.of(), 0.01, L, 1_000_000);
        assertThat(f.errors()).isZero();
        assertThat(f.oWindow()).isLessThanOrEqualTo(0.02);
        assertThat(f.o()).isLessThanOrEqualTo(0.05);
        assertThat(f.fr()).isLessThanOrEqualTo(0.01);
        // the shares as the regions hold them: a about 80 %
        for (String r : REGIONS) {
            HttpResponse<String> share = HTTP.send(
                    HttpRequest.newBuilder(URI.create(lb.get(r).url() + "/v1/regions/global/skewed"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.println("multi-region share in " + r + ": " + share.body());
            assertThat(share.statusCode()).isEqualTo(200);
            double value = Double.parseDouble(share.body().replaceAll(".*\"share\":([0-9.]+).*", "$1"));
            assertThat(value).isBetween(r.equals("a") ? 0.7 : 0.05, r.equals("a") ? 0.9 : 0.15);
        }
        HttpResponse<String> health = HTTP.send(
                HttpRequest.newBuilder(URI.create(lb.get("a").url() + "/health"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.body())
                .contains("\"regions\"")
                .contains("\"globalPolicies\"")
                .contains("\"overAdmissionBound\":0.0")
                .containsPattern(
                        "\"share\":\\{\"subjects\":[1-9][0-9]*,\"min\":[0-9.]+,\"mean\":[0-9.]+,\"max\":0\\.[7-9]");
        // the peers' metrics, as the runbook's alerts name them, summed over region a's two nodes
        String prometheus = "";
        for (int i = 0; i < 2; i++) {
            prometheus += HTTP.send(
                            HttpRequest.newBuilder(URI.create(lb.get("a").url() + "/prometheus"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        }
        assertThat(prometheus)
                .contains("sluice_region_peer_lag_seconds{peer=\"b\"}")
                .contains("sluice_region_peer_last_took_age_seconds{peer=\"c\"}")
                .contains("sluice_region_ship_failures_total{peer=\"b\"}")
                .contains("sluice_region_shipped_total")
                .contains("sluice_region_dropped_subjects")
                .containsPattern("sluice_region_share\\{policy=\"global\",stat=\"max\"} 0\\.[7-9]")
                .contains("sluice_region_over_admission_bound{policy=\"global\"} 0.0");
    }

    /**
     * A region whose traffic steps from none to all of it: b and c offer 2x L, then a alone does.
     * No window admits more than the allowance (a's share grows without giving its bucket tokens),
     * and a reaches 90 % of the limit within 2·S + RTT of the step (issue 18's bound).
     */
    @Test
    @Order(3)
    void aRegionSteppingFromNoneToAllOfTheTrafficNeverOverAdmitsAndConverges() throws Exception {
        List<Sent> all = new ArrayList<>(offer("global", "step", Map.of("a", 0, "b", 100, "c", 100), 5));
        long step = System.nanoTime();
        long phase = System.currentTimeMillis() % 1000;
        // region a's share as it moves, polled every 100 ms (printed: where convergence time goes)
        List<String> timeline = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.Future<?> poller = BESIDE.submit(() -> {
            String last = "";
            while (!Thread.currentThread().isInterrupted() && System.nanoTime() - step < 6_000_000_000L) {
                try {
                    String body = HTTP.send(
                                    HttpRequest.newBuilder(
                                                    URI.create(lb.get("a").url() + "/v1/regions/global/step"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body();
                    String share = body.replaceAll(".*\"share\":([0-9.]+).*", "$1");
                    if (!share.equals(last)) {
                        timeline.add(String.format("%.2fs:%s", (System.nanoTime() - step) / 1e9, share));
                        last = share;
                    }
                    Thread.sleep(100);
                } catch (Exception e) {
                    return;
                }
            }
        });
        List<Sent> after = offer("global", "step", Map.of("a", 200, "b", 0, "c", 0), 8);
        poller.cancel(true);
        System.out.println(
                "multi-region step: " + phase + " ms into its sync period; region a's share after it " + timeline);
        all.addAll(after);
        Figures whole = figures(all, 0);
        report("step 0% -> 100% in a (whole run)", whole);
        assertThat(whole.errors()).isZero();
        assertThat(whole.oWindow()).isLessThanOrEqualTo(0.02);
        assertThat(whole.o()).isLessThanOrEqualTo(0.0);
        // re-convergence: the first moment from which every 1 s window admits at least 90 % of L
        List<Long> admitted = after.stream()
                .filter(s -> s.status() == 200)
                .map(Sent::atNanos)
                .sorted()
                .toList();
        long end = after.stream().mapToLong(Sent::atNanos).max().orElseThrow();
        long converged = -1;
        long w = TimeUnit.SECONDS.toNanos(1);
        for (long t = step; t + w <= end; t += TimeUnit.MILLISECONDS.toNanos(50)) {
            long from = t;
            boolean ok = true;
            for (long u = from; u + w <= end; u += TimeUnit.MILLISECONDS.toNanos(250)) {
                long start = u;
                long n = admitted.stream()
                        .filter(a -> a >= start && a < start + w)
                        .count();
                if (n < 0.9 * L) {
                    ok = false;
                    break;
                }
            }
            if (ok) {
                converged = from;
                break;
            }
        }
        double seconds = converged < 0 ? Double.NaN : (converged - step) / 1e9;
        System.out.printf(
                "multi-region step: a admits >= 90%% of L in every 1 s window from %.2f s after the step%n", seconds);
        assertThat(converged).isPositive();
        // issue 18: within 2·S + RTT (2.15 s). The design's worst case is S + tick + RTT (a step just
        // before a period's end: the next whole period's demand is taken by the peers ~0.2 s after
        // it ends). Measured 2.1-2.9 s while the over-limit cache hid denied checks from the demand.
        assertThat(seconds).isLessThanOrEqualTo(2.15);
    }

    @Test
    @Order(4)
    void aRegionalPolicyIsUnaffected() throws Exception {
        long start = System.nanoTime();
        List<Sent> sent = offer("regional", "r", Map.of("a", 100, "b", 100, "c", 100), 6);
        long from = start + TimeUnit.SECONDS.toNanos(1);
        for (String r : REGIONS) {
            List<Sent> mine = sent.stream()
                    .filter(s -> s.region().equals(r) && s.atNanos() >= from)
                    .toList();
            long admitted = mine.stream().filter(s -> s.status() == 200).count();
            double seconds = (mine.getLast().atNanos() - mine.getFirst().atNanos()) / 1e9;
            System.out.printf("multi-region regional policy, region %s: admitted %d in %.1f s%n", r, admitted, seconds);
            // its own 50 a second in each region, not a share of one limit
            assertThat(admitted).isBetween((long) (50 * seconds * 0.9), (long) (50 + 50 * seconds * 1.05));
        }
    }

    @Test
    @Order(5)
    void aPartitionedRegionKeepsTheOthersSharesReservedAndHeals() throws Exception {
        List<Proxy> cut = new ArrayList<>();
        links.forEach((k, p) -> {
            if (k.contains("c")) {
                cut.add(p);
            }
        });
        // one load throughout: the shares warm up for 4 s, then region c is cut off both ways under
        // it (with a pause in the load at the cut, the demands c last took were the pause's, lower
        // than after it, and every region counted itself at those: shares adding up to 0.958)
        double failuresBefore = metric("a", "sluice_region_ship_failures_total{peer=\"c\"}");
        java.util.concurrent.Future<List<Sent>> load = BESIDE.submit(
                () -> offer("global", "partition", Map.of("a", 67, "b", 67, "c", 66), 4 + PARTITION_SECONDS));
        Thread.sleep(4_000);
        for (Proxy p : cut) {
            p.disable();
        }
        long start = System.nanoTime();
        List<Sent> during;
        try {
            during = load.get();
            // the runbook's signal: what c did not take is region a's backlog for it, and for b none
            // (polled: the claim of a period may pass from one of a's nodes to the other, and for the
            // moment between their two syncs neither holds a backlog)
            org.awaitility.Awaitility.await()
                    .atMost(Duration.ofMillis(900))
                    .pollInterval(Duration.ofMillis(30))
                    .until(() -> metric("a", "sluice_region_peer_backlog{peer=\"c\"}") > 0);
            assertThat(metric("a", "sluice_region_peer_backlog{peer=\"b\"}")).isZero();
            // and its lag grows, and every failed probe counts as a failed shipment (found black-box:
            // the lag stayed at its last good value and a partition counted one failure)
            assertThat(metric("a", "sluice_region_peer_lag_seconds{peer=\"c\"}"))
                    .isGreaterThan(PARTITION_SECONDS / 2.0);
            assertThat(metric("a", "sluice_region_ship_failures_total{peer=\"c\"}") - failuresBefore)
                    .isGreaterThan(PARTITION_SECONDS / 2.0);
        } finally {
            for (Proxy p : cut) {
                p.enable();
            }
        }
        Figures f = figures(during, start);
        report("partition of c, " + PARTITION_SECONDS + " s", f);
        againstTheSimulator(
                "partition of c, " + PARTITION_SECONDS + " s",
                f,
                Map.of("a", 67, "b", 67, "c", 66),
                4,
                PARTITION_SECONDS,
                List.of(new dev.sluice.sim.Scenario.Partition(
                        2, -1, TimeUnit.SECONDS.toMicros(4), TimeUnit.SECONDS.toMicros(4 + PARTITION_SECONDS))),
                0.02,
                L,
                1_000_000);
        assertThat(f.oWindow()).isLessThanOrEqualTo(0.02);
        assertThat(f.errors()).isZero();
        // issue 18: admitted over a partition <= 1.10 x L (its allowance)
        assertThat(f.admitted()).isLessThanOrEqualTo((long) (1.10 * (GLOBAL.burst() + L * f.seconds())));
        long healed = System.nanoTime();
        List<Sent> after = offer("global", "partition", Map.of("a", 160, "b", 20, "c", 20), 8);
        Figures g = figures(after, healed + TimeUnit.SECONDS.toNanos(3)); // 2·S + RTT after the heal, rounded up
        report("after the heal, 80/10/10", g);
        for (String r : REGIONS) {
            System.out.println(
                    "multi-region after the heal, share in " + r + ": " + regionState(r, "global", "partition"));
        }
        assertThat(g.o()).isLessThanOrEqualTo(0.05);
        assertThat(g.fr()).isLessThanOrEqualTo(0.05);
    }

    /**
     * A peer region's service restarts under load: both of region b's nodes stop (b answers nothing
     * for about 3 s) and start again on the same Redis, while all three regions are offered 2 x L.
     * No 1 s window admits more than its allowance (a and c keep b's last share reserved while it is
     * away); a and c never fail; from 2·S + RTT after b is back, the limit is used again.
     */
    @Test
    @Order(9)
    void aPeerRegionRestartingUnderLoadNeitherOverAdmitsNorStaysApart() throws Exception {
        java.util.concurrent.CompletableFuture<List<Sent>> load =
                offerBeside("global", "restart", Map.of("a", 67, "b", 67, "c", 66), 20);
        // the shares have settled: region a holds b's and c's demand of the subject
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> regionState("a", "global", "restart").matches(".*\"peersDemand\":1[0-9]{2}[,}].*"));
        double failuresBefore = metric("a", "sluice_region_ship_failures_total{peer=\"b\"}");
        int first = REGIONS.indexOf("b") * 2;
        for (int i = first; i < first + 2; i++) {
            nodes.get(i).close();
        }
        // b stays down until region a has found it gone (a shipment or probe to it failed), 2 s at least
        org.awaitility.Awaitility.await()
                .atLeast(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> metric("a", "sluice_region_ship_failures_total{peer=\"b\"}") > failuresBefore);
        for (int i = first; i < first + 2; i++) {
            nodes.set(
                    i,
                    ApplicationContext.run(EmbeddedServer.class, config.get(i)).getApplicationContext());
        }
        long back = System.nanoTime();
        List<Sent> sent = load.get();
        Figures whole = figures(sent, 0);
        report("restart of region b's nodes (whole run)", whole);
        assertThat(whole.oWindow()).isLessThanOrEqualTo(0.02);
        assertThat(sent.stream().filter(s -> !s.region().equals("b") && s.status() != 200 && s.status() != 429))
                .isEmpty();
        List<Sent> after = sent.stream()
                .filter(s -> s.status() == 200 || s.status() == 429)
                .toList();
        Figures settled = figures(after, back + TimeUnit.MILLISECONDS.toNanos(2150));
        report("after region b's restart, from 2·S + RTT on", settled);
        assertThat(settled.o()).isLessThanOrEqualTo(0.05);
        assertThat(settled.fr()).isLessThanOrEqualTo(0.02);
    }

    /**
     * Every check of a global subject counts in its region's demand, denied or not: found by the
     * step test's timeline, a node's cache of over-limit subjects answered denials without the store,
     * so a region ramping up reported a fraction of its demand (7 of some 160 in the step's first
     * period) and its share grew a period late. Such denials are no longer kept for global policies.
     */
    @Test
    @Order(10)
    void everyCheckCountsInTheRegionsDemandDeniedOrNot() throws Exception {
        String key = new KeyScheme("sl:").key(new Subject("global", "counted"), "gr");
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(1))
                .until(() -> System.currentTimeMillis() % 1000 < 100);
        HttpRequest request = HttpRequest.newBuilder(URI.create(lb.get("b").url() + "/v1/check"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"policy\":\"global\",\"key\":\"counted\"}"))
                .build();
        List<java.util.concurrent.CompletableFuture<HttpResponse<Void>>> sent = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            sent.add(HTTP.sendAsync(request, HttpResponse.BodyHandlers.discarding()));
            Thread.sleep(2);
        }
        long denied = sent.stream()
                .map(java.util.concurrent.CompletableFuture::join)
                .filter(r -> r.statusCode() == 429)
                .count();
        Object c = redisOf.get("b").call("HGET", key, "c");
        Object cp = redisOf.get("b").call("HGET", key, "cp");
        long counted = Long.parseLong(String.valueOf(c)) + (cp == null ? 0 : Long.parseLong(String.valueOf(cp)));
        System.out.printf("multi-region demand: 150 checks (%d denied), %d counted%n", denied, counted);
        assertThat(denied).isPositive();
        assertThat(counted).isEqualTo(150);
    }

    /**
     * What is shipped: a subject asked within the floor f every region is counted with anyway (here
     * f = 0.05 x 100,000 / 3 = 1,666 units a period) is not shipped at all — a sparse key costs no
     * sync — while a demand above it is, and so is its fall back to 0 afterwards.
     */
    @Test
    @Order(11)
    void aDemandWithinTheFloorIsNotShippedButOneAboveItAndItsFallAre() throws Exception {
        String key = new KeyScheme("sl:").key(new Subject("wide", "sparse"), "gr");
        for (int i = 0; i < 5; i++) {
            assertThat(check("a", "{\"policy\":\"wide\",\"key\":\"sparse\"}").statusCode())
                    .isEqualTo(200);
        }
        // two syncs go by and region b never hears of it
        org.awaitility.Awaitility.await()
                .during(Duration.ofMillis(2500))
                .atMost(Duration.ofSeconds(4))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> redisOf.get("b").call("HGET", key, "d:a") == null);
        HttpResponse<String> big = check("a", "{\"policy\":\"wide\",\"key\":\"sparse\",\"cost\":3000}");
        assertThat(big.statusCode()).isEqualTo(200);
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(4))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> "3000".equals(String.valueOf(redisOf.get("b").call("HGET", key, "d:a"))));
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(4))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> "0".equals(String.valueOf(redisOf.get("b").call("HGET", key, "d:a"))));
        // then nothing to ship for three syncs: each of a's nodes still sends b an empty batch every
        // sync (a heartbeat), so the age the unreachable alert watches stays within a period (found
        // black-box: it grew without bound in a quiet minute and the alert fired on a healthy setup)
        // (the ages summed over b and c on a's two nodes, each within 1.5 s the whole time)
        org.awaitility.Awaitility.await()
                .during(Duration.ofMillis(3500))
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> metric("a", "sluice_region_peer_last_took_age_seconds") < 4 * 1.5);
    }

    /**
     * Found black-box: with region c's Redis down (its nodes up), the other two regions admitted
     * about 2 a second of 100. c's nodes answered a and b's probes, so a and b kept shipping to c,
     * each shipment lowering what they count themselves at for c with every dip of demand, and c
     * (refusing the batches, 503) never took one to raise it again. A probe is now taken only when
     * the probed region's store answers. (The one shipment refused first still lowers it, when it
     * carried a dip: a peer may have applied part of a refused batch.)
     * The last test: region c's Redis stays down.
     */
    /**
     * Found black-box: region a driving a subject at twice the rate while region c checked it once a
     * second shut c out — c's share, about f / (R·f + a's demand), gave its bucket less than one
     * token (c admitted 2 of 15, FR 2.2 % over the run). Every region now keeps φ = share-floor / R
     * of the limit: here 1.66 % of a burst of 100, one token, refilled at 1.66 a second.
     */
    @Test
    @Order(12)
    void aRegionWithALittleTrafficIsNotShutOutByAHotOne() throws Exception {
        List<Sent> sent = offer("global", "light", Map.of("a", 200, "b", 0, "c", 1), 10);
        long offered = sent.stream().filter(x -> x.region().equals("c")).count();
        long admitted = sent.stream()
                .filter(x -> x.region().equals("c") && x.status() == 200)
                .count();
        long aAdmitted = sent.stream()
                .filter(x -> x.region().equals("a") && x.status() == 200)
                .count();
        System.out.printf(
                "multi-region light region: c admitted %d of %d beside a at 2x L (a admitted %d)%n",
                admitted, offered, aAdmitted);
        assertThat(admitted).isGreaterThanOrEqualTo(offered - 1);
        assertThat(figures(sent, 0).oWindow()).isLessThanOrEqualTo(0.02);
    }

    @Test
    @Order(15)
    void aPeerWhoseStoreIsDownDoesNotShrinkTheOthers() throws Exception {
        List<Sent> warm = offer("global", "store-down", Map.of("a", 67, "b", 67, "c", 66), 4);
        redisOf.get("c").kill();
        // the first shipment to c after its store failed is refused (503): from then on a and b
        // only probe c. A dip of demand in a and b while c is down, then back up: the dip is not
        // shipped to c, so what a and b count themselves at for c stays where it was
        List<Sent> dip = new ArrayList<>(offer("global", "store-down", Map.of("a", 67, "b", 67, "c", 0), 3));
        dip.addAll(offer("global", "store-down", Map.of("a", 20, "b", 20, "c", 0), 4));
        long start = System.nanoTime();
        List<Sent> after = offer("global", "store-down", Map.of("a", 67, "b", 67, "c", 0), 8);
        List<Sent> all = new ArrayList<>(warm);
        all.addAll(dip);
        all.addAll(after);
        Figures f = figures(all, 0);
        report("region c's Redis down (whole run)", f);
        long from = start + TimeUnit.SECONDS.toNanos(2);
        long late = after.stream()
                .filter(x -> x.atNanos() >= from && x.status() == 200)
                .count();
        System.out.printf("multi-region store down: after the dip, a and b admitted %d in 6 s%n", late);
        assertThat(f.oWindow()).isLessThanOrEqualTo(0.02);
        // c's last share (about a third) stays reserved; a and b get theirs back: about 2/3 of L a second
        assertThat(late).isGreaterThanOrEqualTo((long) (0.5 * L * 6));
    }

    /**
     * A peer that takes connections and never answers (packets dropped: Toxiproxy's timeout toxic,
     * as a stopped process or a black-holed route does) holds up no shipment to the other peers:
     * region a's nodes keep syncing with c every S while b does not answer (found black-box: with b
     * stopped, a synced c every ~3 s, each sync waiting for b's ship timeout of 2 s).
     */
    @Test
    @Order(13)
    void aPeerThatNeverAnswersDoesNotHoldUpTheOthers() throws Exception {
        Proxy toB = links.get("a-b");
        toB.toxics().timeout("blackhole", ToxicDirection.UPSTREAM, 0);
        double worst = 0;
        double bAge = 0;
        try {
            java.util.concurrent.Future<List<Sent>> load =
                    BESIDE.submit(() -> offer("global", "blackhole", Map.of("a", 40, "b", 0, "c", 40), 7));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
            Thread.sleep(1_000);
            while (System.nanoTime() < end) {
                // the region's view: the node that last shipped (NaN: a node that never has)
                double c = Double.POSITIVE_INFINITY;
                double b = Double.POSITIVE_INFINITY;
                for (ApplicationContext node : nodes.subList(0, 2)) {
                    Map<String, double[]> ages =
                            node.getBean(dev.sluice.region.RegionSync.class).peerAges();
                    c = Double.isNaN(ages.get("c")[0]) ? c : Math.min(c, ages.get("c")[0]);
                    b = Double.isNaN(ages.get("b")[0]) ? b : Math.min(b, ages.get("b")[0]);
                }
                worst = Math.max(worst, c);
                bAge = b;
                Thread.sleep(100);
            }
            load.get();
        } finally {
            toB.toxics().get("blackhole").remove();
        }
        System.out.printf(
                "multi-region b black-holed for 6 s: region a last took from c at most %.2f s ago; from b %.2f s%n",
                worst, bAge);
        assertThat(bAge).as("b took nothing (infinite: never)").isGreaterThan(3);
        // a sync every S = 1 s, each done within its period: never much more than a second old
        assertThat(worst).as("c, while b does not answer").isLessThan(1.6);
    }

    /**
     * Regions whose global policy differs (limit, period or burst) hold no common limit: a batch
     * saying so is counted, and the policy's bound is lost in /health and in the gauge until the
     * sender says the same shape again (found black-box: c at 1,000 a second beside a and b at 100
     * admitted everything, O +0.23, while every bound said 0). A shape that is not one is a 400.
     */
    @Test
    @Order(14)
    void aGlobalPolicyThatDiffersBetweenRegionsLosesItsBound() throws Exception {
        int port = nodes.get(0).getBean(EmbeddedServer.class).getPort();
        String differs = "{\"origin\":\"c\",\"entries\":[],\"policies\":{\"global\":\"1000/1000/1000\"}}";
        double before = metric("a", "sluice_region_policy_differs_total");
        boolean lost = false;
        for (int i = 0; i < 20 && !lost; i++) {
            assertThat(deliverTo(port, differs).statusCode()).isEqualTo(200);
            String health = HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            // c's own heartbeat (every S) says 100/1000/100 again and clears it: seen at once, or retried
            lost = health.contains("\"differingRegions\":{\"c\":\"1000/1000/1000\"}")
                    && health.matches("(?s).*\"global\":\\{[^}]*\"overAdmissionBound\":null.*");
        }
        assertThat(lost)
                .as("/health: the bound of 'global' lost while c differs")
                .isTrue();
        assertThat(metric("a", "sluice_region_policy_differs_total")).isGreaterThan(before);
        // and back once c's heartbeats say the same shape again
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body()
                .matches("(?s).*\"global\":\\{\"floorDemand\":[0-9]+,\"overAdmissionBound\":0\\.0.*"));
        // a heartbeat that does not list the policy: it is regional there (found black-box: not seen)
        String regional = "{\"origin\":\"c\",\"entries\":[],\"policies\":{}}";
        boolean seen = false;
        for (int i = 0; i < 20 && !seen; i++) {
            assertThat(deliverTo(port, regional).statusCode()).isEqualTo(200);
            seen = HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body()
                    .contains("\"differingRegions\":{\"c\":\"regional\"}");
        }
        assertThat(seen).as("/health: c runs 'global' as a regional policy").isTrue();
        HttpResponse<String> bad =
                deliverTo(port, "{\"origin\":\"c\",\"entries\":[],\"policies\":{\"global\":\"fast\"}}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("policies.global");
    }

    /**
     * Issue 19: the same workload through region-sim — three regions of two nodes, S = 1 s, RTT 150
     * ± 20 ms, the same rates evenly spaced, the same warm-up and span — and O compared: reported,
     * and held within {@code within} (the target is 1 percentage point).
     */
    /** A workload run here, through the simulator too, on a bucket of {@code limit} (and burst) per {@code windowMicros}: O compared. */
    private static void againstTheSimulator(
            String name,
            Figures real,
            Map<String, Integer> rates,
            int warmupSeconds,
            int seconds,
            List<dev.sluice.sim.Scenario.Partition> partitions,
            double within,
            long limit,
            long windowMicros) {
        double total = rates.values().stream().mapToInt(Integer::intValue).sum();
        double[] weights =
                REGIONS.stream().mapToDouble(r -> rates.get(r) / total).toArray();
        dev.sluice.sim.Result sim = dev.sluice.sim.Simulation.run(
                new dev.sluice.sim.Scenario(
                        dev.sluice.sim.Scenario.Mode.SLUICE,
                        REGIONS.size(),
                        2,
                        1_000_000,
                        2_000 * RegionTopology.ONE_WAY_MS,
                        1_000 * RegionTopology.JITTER_MS,
                        0,
                        windowMicros,
                        limit,
                        total * windowMicros / 1e6 / limit,
                        dev.sluice.sim.Traffic.skewed(weights),
                        false,
                        partitions,
                        TimeUnit.SECONDS.toMicros(warmupSeconds),
                        TimeUnit.SECONDS.toMicros(seconds),
                        0.05),
                1);
        System.out.printf(
                "multi-region vs region-sim, %s: O %.4f here, %.4f simulated (%.2f percentage points); FR %.4f here,"
                        + " %.4f simulated%n",
                name,
                real.o(),
                sim.overSpan(),
                100 * Math.abs(real.o() - sim.overSpan()),
                real.fr(),
                sim.falseRejects());
        assertThat(Math.abs(real.o() - sim.overSpan()))
                .as(name + ": O here and simulated")
                .isLessThanOrEqualTo(within);
    }

    private static HttpResponse<String> deliverTo(int port, String body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/regions/v1/demand"))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + TOKEN)
                        .timeout(Duration.ofSeconds(5))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> deliver(String region, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(lb.get(region).url() + "/regions/v1/demand"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String batch(long period, long demand) {
        return "{\"origin\":\"c\",\"entries\":[{\"policy\":\"global\",\"key\":\"dup\",\"period\":" + period
                + ",\"demand\":" + demand + "}]}";
    }

    private static String entry(String fields) {
        return "{\"origin\":\"c\",\"entries\":[{" + fields + "}]}";
    }

    /**
     * W = 60 s: a global bucket of 6,000 a minute (burst 6,000), 2 x L (200 a second) offered 80/10/10,
     * on two subjects side by side. From cold, for 30 s: the burst is split equally at first and
     * largely lost to the low-demand regions as the shares move (docs/multi-region.md); only O is held
     * there. In steady state — each region's third of the burst taken by one check of cost 1,999 at
     * the start, as an exact bucket would have given it, then 80 s of the offered load — every 60 s
     * window holds O ≤ 2 % and FR ≤ 1 % (issue 18's targets at W = 60 s).
     */
    @Test
    @Order(8)
    void aMinuteLongWindowHoldsToo() throws Exception {
        Limit minute = new Limit(6000, 6000, 60_000);
        long coldStart = System.nanoTime();
        java.util.concurrent.CompletableFuture<Figures> cold = offerBeside(
                        "minute", "w60", Map.of("a", 160, "b", 20, "c", 20), 30)
                .thenApply(sent -> figures(minute, sent, coldStart));
        List<Sent> steady = new ArrayList<>();
        for (String r : REGIONS) {
            long at = System.nanoTime();
            HttpResponse<String> drain = check(r, "{\"policy\":\"minute\",\"key\":\"w60-steady\",\"cost\":1999}");
            assertThat(drain.statusCode()).as(drain.body()).isEqualTo(200);
            for (int i = 0; i < 1999; i++) {
                steady.add(new Sent(r, at, 200)); // the exact bucket counts cost 1,999 as 1,999 checks
            }
        }
        long start = System.nanoTime();
        steady.addAll(offer("minute", "w60-steady", Map.of("a", 160, "b", 20, "c", 20), 80));
        Figures f = figures(minute, steady, start + TimeUnit.SECONDS.toNanos(5));
        report("W = 60 s, 80/10/10 2x L, steady (75 s after the burst was taken)", f);
        // the simulator drains the burst by the offered load instead: 100 a second over L empties 6,000 in
        // 60 s, so a warm-up of 125 s ends in the same steady state the drain above starts
        againstTheSimulator(
                "W = 60 s, 80/10/10 2x L, steady",
                f,
                Map.of("a", 160, "b", 20, "c", 20),
                125,
                75,
                List.of(),
                0.01,
                6000,
                60_000_000);
        for (String r : REGIONS) {
            long mine = steady.stream()
                    .filter(x -> x.region().equals(r) && x.atNanos() >= start && x.status() == 200)
                    .count();
            System.out.println("multi-region W = 60 s steady, region " + r + " admitted " + mine + ", its state: "
                    + regionState(r, "minute", "w60-steady"));
        }
        Figures c = cold.get();
        report("W = 60 s, 80/10/10 2x L, 30 s from cold", c);
        // from cold the burst is split by the initial shares before any demand is known: a dynamic the
        // simulator must reproduce too (0.59 percentage points apart at 15:38 UTC; asserted at 3, as
        // earlier runs here saw FR up to 0.44 from cold, 2.3 points off)
        againstTheSimulator(
                "W = 60 s, 80/10/10 2x L, 30 s from cold",
                c,
                Map.of("a", 160, "b", 20, "c", 20),
                0,
                30,
                List.of(),
                0.03,
                6000,
                60_000_000);
        assertThat(c.errors()).isZero();
        assertThat(c.o()).isLessThanOrEqualTo(0.0);
        assertThat(f.errors()).isZero();
        assertThat(f.oWindow()).isLessThanOrEqualTo(0.02);
        assertThat(f.fr()).isLessThanOrEqualTo(0.01);
    }

    /**
     * Found black-box: 600 subjects with 250-byte keys made batches over the receiver's 64 KiB
     * request limit (413), so their demand never reached the peers. Batches are now cut by size.
     */
    @Test
    @Order(7)
    void manySubjectsWithLongKeysAllReachThePeers() throws Exception {
        double failedBefore = metric("a", "sluice_region_ship_failures_total");
        double appliedBefore = metric("b", "sluice_region_applied_total");
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String k = String.format("%03d", i) + "x".repeat(247);
            keys.add(k);
            // cost 2: above the floor (f = 1 here), so each subject's demand is shipped
            HttpResponse<String> r = check("a", "{\"policy\":\"global\",\"key\":\"" + k + "\",\"cost\":2}");
            assertThat(r.statusCode()).isEqualTo(200);
        }
        // the period ends, a ships, b applies: each subject's demand of 2 (and its 0 of the period
        // after)
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(metric("b", "sluice_region_applied_total") - appliedBefore)
                        .isGreaterThanOrEqualTo(300));
        HttpResponse<String> share = HTTP.send(
                HttpRequest.newBuilder(URI.create(lb.get("b").url() + "/v1/regions/global/" + keys.get(299)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(share.statusCode()).isEqualTo(200);
        assertThat(metric("a", "sluice_region_ship_failures_total")).isEqualTo(failedBefore);
    }

    /** The sum of a Prometheus metric over a region's two nodes (fetched through its load balancer twice). */
    private static double metric(String region, String name) throws Exception {
        double sum = 0;
        java.util.regex.Pattern p =
                java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$");
        for (ApplicationContext node : nodes.subList(REGIONS.indexOf(region) * 2, REGIONS.indexOf(region) * 2 + 2)) {
            int port = node.getBean(EmbeddedServer.class).getPort();
            String body = HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/prometheus"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            java.util.regex.Matcher m = p.matcher(body);
            while (m.find()) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }

    @Test
    @Order(6)
    void deliveriesAreIdempotentOrderFreeAndAuthenticated() throws Exception {
        String key = new KeyScheme("sl:").key(new Subject("global", "dup"), "gr");
        RedisNode b = redisOf.get("b");
        long now = System.currentTimeMillis() / 1000; // the sync period index at S = 1 s
        assertThat(deliver("b", TOKEN, batch(now - 10, 40)).body()).contains("\"applied\":1");
        assertThat(deliver("b", TOKEN, batch(now - 10, 40)).body()).contains("\"applied\":0"); // duplicate
        assertThat(deliver("b", TOKEN, batch(now - 11, 7)).body()).contains("\"applied\":0"); // late, older
        assertThat(b.call("HGET", key, "d:c")).isEqualTo("40");
        assertThat(deliver("b", TOKEN, batch(now - 9, 12)).body()).contains("\"applied\":1");
        // an empty batch is what a region probes a peer it could not reach with
        HttpResponse<String> probe = deliver("b", TOKEN, "{\"origin\":\"c\",\"entries\":[]}");
        assertThat(probe.statusCode()).isEqualTo(200);
        assertThat(probe.body()).contains("\"applied\":0");
        assertThat(b.call("HGET", key, "d:c")).isEqualTo("12");
        // a policy that is not global here (the policy files differ): taken, skipped, counted
        double skippedBefore = metric("b", "sluice_region_skipped_total");
        HttpResponse<String> regional = deliver(
                "b", TOKEN, entry("\"policy\":\"regional\",\"key\":\"dup\",\"period\":" + now + ",\"demand\":5"));
        assertThat(regional.statusCode()).isEqualTo(200);
        assertThat(regional.body()).contains("\"applied\":0").contains("\"skipped\":1");
        assertThat(metric("b", "sluice_region_skipped_total") - skippedBefore).isEqualTo(1.0);

        // found black-box: a period far ahead was "newer" than every real shipment for good
        HttpResponse<String> ahead = deliver("b", TOKEN, batch(Long.MAX_VALUE / 2, 0));
        assertThat(ahead.statusCode()).isEqualTo(400);
        assertThat(ahead.body()).contains("entries[0].period");
        assertThat(deliver("b", TOKEN, batch(now + 3600, 0)).statusCode()).isEqualTo(400);
        // found black-box: 59 s ahead was still allowed, and held the origin's real shipments off for a minute
        assertThat(deliver("b", TOKEN, batch(now + 10, 0)).statusCode()).isEqualTo(400);
        // and fields missing, of the wrong type, or not whole were taken as 0 or coerced
        for (String bad : List.of(
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now),
                entry("\"policy\":\"global\",\"key\":\"dup\",\"demand\":5"),
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now + ",\"demand\":\"5\""),
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now + ",\"demand\":7.9"),
                // written with a fraction or an exponent (found black-box: taken as whole numbers)
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now + ",\"demand\":1e2"),
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now + ",\"demand\":1.0"),
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now + "e0,\"demand\":1"),
                entry("\"policy\":\"global\",\"key\":\"dup\",\"period\":9223372036854775807,\"demand\":1"),
                entry("\"policy\":\"global\",\"key\":\"" + "k".repeat(300) + "\",\"period\":" + now
                        + ",\"demand\":1"))) {
            HttpResponse<String> r = deliver("b", TOKEN, bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.body()).contains("\"name\":\"entries[0].").doesNotContain("dev.sluice");
        }
        HttpResponse<String> text = HTTP.send(
                HttpRequest.newBuilder(URI.create(lb.get("b").url() + "/regions/v1/demand"))
                        .header("Content-Type", "text/plain")
                        .header("Authorization", "Bearer " + TOKEN)
                        .POST(HttpRequest.BodyPublishers.ofString(batch(now, 1)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(text.statusCode()).isEqualTo(415);
        assertThat(b.call("HGET", key, "d:c")).isEqualTo("12");

        HttpResponse<String> none = deliver("b", null, batch(now, 1));
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(deliver("b", "wrong", batch(now, 1)).statusCode()).isEqualTo(401);
        HttpResponse<String> stranger = deliver(
                "b",
                TOKEN,
                "{\"origin\":\"zz\",\"entries\":[{\"policy\":\"global\",\"key\":\"dup\",\"period\":" + now
                        + ",\"demand\":1}]}");
        assertThat(stranger.statusCode()).isEqualTo(400);
        assertThat(stranger.body()).contains("\"name\":\"origin\"");
        HttpResponse<String> negative = deliver("b", TOKEN, batch(now, -5));
        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(negative.body()).contains("entries[0].demand");
        assertThat(deliver("b", TOKEN, "not json").statusCode()).isEqualTo(400);
        // one batch and something after it (found black-box: taken, the rest ignored)
        HttpResponse<String> trailing = deliver("b", TOKEN, batch(now, 1) + " garbage");
        assertThat(trailing.statusCode()).isEqualTo(400);
        assertThat(trailing.body()).contains("\"name\":\"body\"");
        assertThat(b.call("HGET", key, "d:c")).isEqualTo("12"); // nothing refused changed anything
    }
}
