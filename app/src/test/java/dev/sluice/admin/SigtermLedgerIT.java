package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RedisServersExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Nothing that matters lives only in a stopped node (issue 17): a node of the service's jar, as an
 * operator or a function runtime runs it, admits checks by API key and is stopped with SIGTERM at
 * once. Its usage ledger flushes only every hour here, so the usage it admitted reaches PostgreSQL
 * only through the flush on shutdown; the ledger must then hold exactly the admitted checks, for the
 * day and for the month.
 */
@ExtendWith(RedisServersExtension.class)
class SigtermLedgerIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static final Path JAR = Path.of("target", "sluice.jar");
    private static final int CHECKS = 200;
    private static final int THREADS = 8;

    @Test
    void aNodeStoppedWithSigtermRightAfterAdmittingChecksByKeyLeavesTheLedgerExact() throws Exception {
        String url = PlansDatabase.create("sigterm_it");
        int port = FreePorts.any();
        String base = "http://127.0.0.1:" + port;
        try (ManagedProcess node = startReady(port, url)) {
            String key = issueKey(base, "stopped");

            long admitted = 0;
            // the first admission also says the node knows the key; every 200 counts
            long firstAdmitted = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < firstAdmitted) {
                int status = check(base, key);
                if (status == 200) {
                    admitted++;
                    break;
                }
                Thread.sleep(20);
            }
            assertThat(admitted).as("the issued key was admitted within 10 s").isEqualTo(1);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<Integer>> answers = new ArrayList<>();
                for (int i = 0; i < CHECKS; i++) {
                    answers.add(pool.submit(() -> check(base, key)));
                }
                for (Future<Integer> answer : answers) {
                    assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo(200);
                    admitted++;
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(ledger(url, key, "d:" + LocalDate.now(ZoneOffset.UTC)))
                    .as("nothing written before the stop (the periodic flush is an hour away)")
                    .isZero();

            node.signal("TERM");
            await().atMost(Duration.ofSeconds(30)).until(() -> !node.isAlive());
            String log = Files.readString(node.log());
            assertThat(log).contains("Embedded Application shutting down");
            assertThat(ledger(url, key, "d:" + LocalDate.now(ZoneOffset.UTC)))
                    .as("the day's ledger after SIGTERM: every admitted check, once")
                    .isEqualTo(admitted);
            assertThat(ledger(url, key, "m:" + YearMonth.now(ZoneOffset.UTC)))
                    .as("the month's ledger after SIGTERM")
                    .isEqualTo(admitted);
            PlansDatabase.assertTotalsMatchTheLedger(url);
        }
    }

    @Test
    void checksInFlightAtSigtermAreAnsweredAndTheLedgerHoldsExactlyTheAdmittedOnes() throws Exception {
        String url = PlansDatabase.create("sigterm_flight_it");
        int port = FreePorts.any();
        String base = "http://127.0.0.1:" + port;
        try (ManagedProcess node = startReady(port, url)) {
            String key = issueKey(base, "flight");
            await().atMost(Duration.ofSeconds(10)).until(() -> check(base, key) == 200);
            java.util.concurrent.atomic.AtomicLong admitted = new java.util.concurrent.atomic.AtomicLong(1);
            java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong other = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.CountDownLatch loaded = new java.util.concurrent.CountDownLatch(THREADS * 20);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> senders = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    senders.add(pool.submit(() -> {
                        // until the node no longer takes connections: every answer is counted
                        while (true) {
                            int status;
                            try {
                                status = check(base, key);
                            } catch (IllegalStateException e) {
                                if (e.getCause() instanceof java.net.ConnectException) {
                                    refused.incrementAndGet();
                                    return;
                                }
                                other.incrementAndGet(); // a connection closed without an answer
                                continue;
                            }
                            if (status == 200) {
                                admitted.incrementAndGet();
                            } else {
                                other.incrementAndGet();
                            }
                            loaded.countDown();
                        }
                    }));
                }
                assertThat(loaded.await(30, TimeUnit.SECONDS)).isTrue();
                node.signal("TERM"); // while every sender has a check in flight or about to be
                for (Future<?> sender : senders) {
                    sender.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !node.isAlive());
            assertThat(ledger(url, key, "d:" + LocalDate.now(ZoneOffset.UTC)))
                    .as(
                            "the ledger holds exactly the checks answered 200 (%d answers of other kinds or none)",
                            other.get())
                    .isEqualTo(admitted.get());
            assertThat(ledger(url, key, "m:" + YearMonth.now(ZoneOffset.UTC))).isEqualTo(admitted.get());
        }
    }

    /**
     * A node of the jar on database {@code url}, ready; its ledger flushes only every hour, so what
     * the ledger holds at the end is what the shutdown wrote.
     */
    private static ManagedProcess startReady(int port, String url) throws Exception {
        Map<String, Object> properties = PlansDatabase.nodeProperties(url, TOKEN);
        properties.put("limiter.plans.ledger-flush", "1h");
        ManagedProcess node = start(port, properties);
        String base = "http://127.0.0.1:" + port;
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> status(base, "/health/readiness") == 200);
        return node;
    }

    /** Creates {@code plan} (a rate and a daily quota no test reaches) and issues a key of it. */
    private static String issueKey(String base, String plan) {
        assertThat(PlansDatabase.admin(
                                base,
                                TOKEN,
                                "POST",
                                "/admin/plans",
                                "{\"name\":\"" + plan + "\",\"limit\":100000,\"period\":\"1m\",\"dailyQuota\":100000}")
                        .statusCode())
                .isEqualTo(201);
        Matcher issued = Pattern.compile("\"key\":\"([^\"]*)\"")
                .matcher(PlansDatabase.admin(base, TOKEN, "POST", "/admin/keys", "{\"plan\":\"" + plan + "\"}")
                        .body());
        assertThat(issued.find()).isTrue();
        return issued.group(1);
    }

    private static ManagedProcess start(int port, Map<String, Object> properties) throws Exception {
        Path dir = Files.createTempDirectory("sluice-sigterm-");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command =
                new ArrayList<>(List.of(java, "-Dmicronaut.server.port=" + port, "-Dmicronaut.server.host=127.0.0.1"));
        properties.forEach((name, value) -> command.add("-D" + name + "=" + value));
        command.add("-jar");
        command.add(JAR.toAbsolutePath().toString());
        return ManagedProcess.start("sluice:" + port, command, dir, dir.resolve("node.log"));
    }

    private static int check(String base, String apiKey) {
        return ServiceNode.send(HttpRequest.newBuilder(URI.create(base + "/v1/check"))
                        .header("X-Api-Key", apiKey)
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build())
                .statusCode();
    }

    private static int status(String base, String path) {
        try {
            return ServiceNode.send(HttpRequest.newBuilder(URI.create(base + path))
                            .timeout(Duration.ofSeconds(2))
                            .build())
                    .statusCode();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static long ledger(String url, String key, String period) throws SQLException {
        return PlansDatabase.ledger(url, key, period);
    }
}
