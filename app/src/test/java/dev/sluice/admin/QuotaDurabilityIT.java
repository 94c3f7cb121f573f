package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.plans.KeyDirectory;
import dev.sluice.plans.UsageLedger;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Quotas survive Redis losing its counters (FLUSHALL on the cluster), because a missing counter
 * starts from the durable ledger; usage admitted while PostgreSQL is down is buffered and written
 * when it is back, with nothing lost.
 */
@ExtendWith(RedisServersExtension.class)
class QuotaDurabilityIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static PostgresServer pg;
    private static String url;
    private static ServiceNode node;

    @BeforeAll
    static void start() throws SQLException {
        pg = RedisServers.postgres();
        url = PlansDatabase.create("quota_it");
        Map<String, Object> p = PlansDatabase.nodeProperties(url, TOKEN);
        p.put("datasources.default.connection-timeout", 1000);
        // the ledger folded every other second, so every scenario here runs with compaction going on
        p.put("limiter.plans.ledger-compact", "2s");
        node = ServiceNode.start(p);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static HttpResponse<String> admin(String path, String body) {
        return PlansDatabase.admin(node.url(), TOKEN, "POST", path, body);
    }

    private static int check(String apiKey) {
        return PlansDatabase.checkByKey(node, apiKey);
    }

    private static String issue(String plan) {
        return PlansDatabase.issue(node, TOKEN, plan);
    }

    private static long ledger(String key) throws SQLException {
        return PlansDatabase.ledger(url, key, "d:" + LocalDate.now(ZoneOffset.UTC));
    }

    private static int admittedOf(String key, int attempts) {
        return admittedOf(node, key, attempts);
    }

    private static int admittedOf(ServiceNode on, String key, int attempts) {
        int admitted = 0;
        for (int i = 0; i < attempts; i++) {
            int status = PlansDatabase.checkByKey(on, key);
            if (status == 200) {
                admitted++;
            } else {
                assertThat(status).isEqualTo(429);
            }
        }
        return admitted;
    }

    @Test
    void aFlushedRedisDoesNotHandOutAFreshDay() throws SQLException {
        admin("/admin/plans", "{\"name\":\"durable\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":20}");
        String key = issue("durable");
        assertThat(admittedOf(key, 8)).isEqualTo(8);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger(key) == 8);
        RedisServers.cluster().flushAll();
        // the day's counter is gone from Redis; it starts again from the ledger's 8
        assertThat(admittedOf(key, 15)).as("20 - 8 left after the flush").isEqualTo(12);

        // flushed again at once, before the ledger was written: this node's unwritten usage counts too
        String other = issue("durable");
        assertThat(admittedOf(other, 5)).isEqualTo(5);
        RedisServers.cluster().flushAll();
        assertThat(admittedOf(other, 20)).isEqualTo(15);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger(other) == 20);
    }

    /**
     * A node that has never seen the account (a fresh start, a new function instance) and finds its
     * quota counters gone (Redis flushed, or a store of its own) starts them from the ledger's
     * totals, not from zero (found black-box: every restart handed out a fresh daily quota).
     */
    @Test
    void aFreshNodeStartsAMissingQuotaCounterFromTheLedgerNotFromZero() throws SQLException {
        admin("/admin/plans", "{\"name\":\"fresh\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":20}");
        String key = issue("fresh");
        assertThat(admittedOf(key, 8)).isEqualTo(8);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger(key) == 8);
        RedisServers.cluster().flushAll();
        Map<String, Object> p = PlansDatabase.nodeProperties(url, TOKEN);
        try (ServiceNode fresh = ServiceNode.start(p)) {
            KeyDirectory directory = fresh.context().getBean(KeyDirectory.class);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> directory.resolve(key, Instant.now()).valid());
            assertThat(admittedOf(fresh, key, 20))
                    .as("what is left of the daily quota of 20 after 8")
                    .isEqualTo(12);
        }
    }

    /**
     * Beyond the buffer's bound ({@code ledger-buffer} entries) usage is dropped — counted in {@code
     * sluice_ledger_dropped_units_total}, no longer pending — and what was buffered is still written
     * once the database is back.
     */
    @Test
    void usageBeyondTheBufferIsCountedAsDroppedAndTheRestIsWritten() throws SQLException {
        admin("/admin/plans", "{\"name\":\"bounded\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":1000}");
        String key = issue("bounded");
        Map<String, Object> p = PlansDatabase.nodeProperties(url, TOKEN);
        p.put("datasources.default.connection-timeout", 1000);
        p.put("limiter.plans.ledger-buffer", 2); // one batch of one account: its day and its month
        try (ServiceNode small = ServiceNode.start(p)) {
            KeyDirectory directory = small.context().getBean(KeyDirectory.class);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> directory.resolve(key, Instant.now()).valid());
            UsageLedger ledger = small.context().getBean(UsageLedger.class);
            io.micrometer.core.instrument.MeterRegistry meters =
                    small.context().getBean(io.micrometer.core.instrument.MeterRegistry.class);
            java.util.function.Supplier<Integer> checkOnSmall =
                    () -> ServiceNode.send(HttpRequest.newBuilder(URI.create(small.url() + "/v1/check"))
                                    .header("X-Api-Key", key)
                                    .POST(HttpRequest.BodyPublishers.noBody())
                                    .build())
                            .statusCode();
            pg.stop();
            try {
                assertThat(checkOnSmall.get()).isEqualTo(200);
                // its batch is made and fails to be written: it waits in the buffer, which is then full
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> meters.counter("sluice.ledger.batches", "result", "failed")
                                        .count()
                                >= 1);
                assertThat(checkOnSmall.get()).isEqualTo(200);
                await().atMost(Duration.ofSeconds(10))
                        .until(() ->
                                meters.counter("sluice.ledger.dropped.units").count() == 1);
                assertThat(ledger.pendingUnits())
                        .as("the dropped unit is no longer pending")
                        .isEqualTo(1);
            } finally {
                pg.restart();
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> ledger.pendingUnits() == 0);
            assertThat(ledger(key))
                    .as("the buffered unit written, the dropped one not")
                    .isEqualTo(1);
            PlansDatabase.assertTotalsMatchTheLedger(url);
        }
    }

    @Test
    void usageAdmittedWhilePostgresIsDownIsWrittenWhenItIsBack() throws SQLException {
        admin("/admin/plans", "{\"name\":\"buffered\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":1000}");
        String key = issue("buffered");
        UsageLedger ledger = node.context().getBean(UsageLedger.class);
        pg.stop();
        long pending;
        try {
            assertThat(admittedOf(key, 30)).as("checks need no database").isEqualTo(30);
            // the node answers: it stays ready for a load balancer; /health reports the database
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> ServiceNode.get(node.url(), "/health").statusCode() == 503);
            assertThat(ServiceNode.get(node.url(), "/health/readiness").statusCode())
                    .isEqualTo(200);
            pending = ledger.pendingUnits();
            assertThat(pending).as("buffered while the database is down").isGreaterThanOrEqualTo(30);
        } finally {
            pg.restart();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> ledger.pendingUnits() == 0);
        assertThat(ledger(key)).as("every admitted unit, written once").isEqualTo(30);
        PlansDatabase.assertTotalsMatchTheLedger(url);
        System.out.printf(
                "QuotaDurabilityIT: %d unit(s) buffered while PostgreSQL was down, all %d written after%n",
                pending, ledger(key));
    }

    @Test
    void aResetGivesBackTheQuotaAndAFlushDoesNotUndoIt() throws SQLException {
        admin("/admin/plans", "{\"name\":\"resettable\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":10}");
        String key = issue("resettable");
        String id = key.substring(3, key.indexOf('.'));
        assertThat(admittedOf(key, 12)).isEqualTo(10);

        // bad input names the field and resets nothing; an unknown key is 404
        HttpResponse<String> bad = admin("/admin/keys/" + id + "/reset", "{\"daily\":\"yes\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"name\":\"daily\"");
        assertThat(admin("/admin/keys/" + id + "/reset", "{\"rate\":false,\"daily\":false,\"monthly\":false}")
                        .statusCode())
                .isEqualTo(400);
        assertThat(admin("/admin/keys/nosuchkey/reset", "").statusCode()).isEqualTo(404);
        assertThat(check(key)).as("still spent").isEqualTo(429);

        HttpResponse<String> reset = admin("/admin/keys/" + id + "/reset", "{\"rate\":false}");
        assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
        assertThat(reset.body()).contains("\"usedBefore\":10");
        assertThat(admittedOf(key, 3)).isEqualTo(3);
        // every node wrote its usage; then Redis loses the day's counter: it is rebuilt from the
        // ledger, which holds the reset (-10), so 3 are used, not 13
        UsageLedger ledger = node.context().getBean(UsageLedger.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.pendingUnits() == 0 && ledger(key) == 3);
        RedisServers.cluster().flushAll();
        assertThat(admittedOf(key, 10))
                .as("10 - 3 left after the reset and the flush")
                .isEqualTo(7);

        // a reset when Redis has no counter (flushed again) takes what the ledger holds
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.pendingUnits() == 0 && ledger(key) == 10);
        RedisServers.cluster().flushAll();
        reset = admin("/admin/keys/" + id + "/reset", "");
        assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
        assertThat(reset.body()).contains("\"usedBefore\":10");
        assertThat(ledger(key)).isZero();
        assertThat(admittedOf(key, 12)).isEqualTo(10);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.pendingUnits() == 0);
        PlansDatabase.assertTotalsMatchTheLedger(url);
    }

    @Test
    void aPolicySubjectIsResetThroughTheAdminApiWithAToken() {
        String path = "/admin/limits/demo/reset-" + UUID.randomUUID();
        HttpResponse<String> anonymous = ServiceNode.send(
                HttpRequest.newBuilder(URI.create(node.url() + path)).DELETE().build());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        HttpResponse<String> done = ServiceNode.send(HttpRequest.newBuilder(URI.create(node.url() + path))
                .header("Authorization", "Bearer " + TOKEN)
                .DELETE()
                .build());
        assertThat(done.statusCode()).isEqualTo(204);
        HttpResponse<String> unknown =
                ServiceNode.send(HttpRequest.newBuilder(URI.create(node.url() + "/admin/limits/no-such-policy/x"))
                        .header("Authorization", "Bearer " + TOKEN)
                        .DELETE()
                        .build());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("\"name\":\"policy\"");
    }
}
