package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.plans.UsageLedger;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The ledger and the minute analytics grow with accounts and keys, not with seconds: each node folds
 * the rows it wrote (a row per account, period and second; per key, minute and second) into one row
 * per (account, period) and per (key, minute), keeping every sum, the running totals and what the
 * admin API reports; the rows of other nodes are folded but their newest batch.
 */
@ExtendWith(RedisServersExtension.class)
class LedgerCompactionIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static PostgresServer pg;
    private static String url;
    private static ServiceNode node;

    @BeforeAll
    static void start() {
        pg = RedisServers.postgres();
        url = PlansDatabase.create("compaction_it");
        Map<String, Object> p = PlansDatabase.nodeProperties(url, TOKEN);
        p.put("limiter.plans.ledger-compact", "3s"); // every third flush
        node = ServiceNode.start(p);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void aNodesRowsFoldIntoOnePerAccountPeriodAndPerKeyMinuteKeepingEverySum() throws Exception {
        PlansDatabase.admin(
                node.url(),
                TOKEN,
                "POST",
                "/admin/plans",
                "{\"name\":\"folded\",\"limit\":600,\"period\":\"1m\",\"dailyQuota\":1000,\"monthlyQuota\":10000}");
        String a = issue("folded");
        String b = issue("folded");
        // checks spread over several flushes (one a second): several batches, so several rows each
        for (int i = 0; i < 10; i++) {
            assertThat(check(a)).isEqualTo(200);
            if (i % 2 == 0) {
                assertThat(check(b)).isEqualTo(200);
            }
            Thread.sleep(300);
        }
        // every check written (the last within a second) and folded (every third second)
        await().atMost(Duration.ofSeconds(15))
                .until(() -> unfolded() == 0
                        && units(account(a)).equals(List.of(10L, 10L))
                        && units(account(b)).equals(List.of(5L, 5L)));

        assertThat(rows(account(a)))
                .as("one row per period: the day and the month")
                .hasSize(2);
        assertThat(rows(account(b))).hasSize(2);
        PlansDatabase.assertTotalsMatchTheLedger(url);
        assertThat(minuteRowsAreOnePerKeyAndMinute()).isTrue();
        assertThat(usage(a)).isEqualTo(10);
        assertThat(usage(b)).isEqualTo(5);

        // later usage folds into the same rows
        for (int i = 0; i < 3; i++) {
            assertThat(check(a)).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(15))
                .until(() -> unfolded() == 0 && units(account(a)).equals(List.of(13L, 13L)));
        assertThat(rows(account(a))).hasSize(2);
        PlansDatabase.assertTotalsMatchTheLedger(url);
        assertThat(minuteRowsAreOnePerKeyAndMinute()).isTrue();
        assertThat(usage(a)).isEqualTo(13);
    }

    @Test
    void otherNodesRowsAreFoldedButTheirNewestBatch() throws Exception {
        try (Connection c = db();
                Statement s = c.createStatement()) {
            // a node that restarted (under a new name) left three batches of one account: the first two
            // were acknowledged (it wrote the third after them), the third may have been in doubt
            for (int seq = 1; seq <= 3; seq++) {
                s.execute("INSERT INTO usage_ledger (node, seq, account, period, units) VALUES" + " ('gone', " + seq
                        + ", 'acct-gone', 'd:2026-01-01', " + seq + ")");
            }
            // its minute rows reach batch 4 (a batch of denials only): the ledger's batch 3 is settled too
            for (int seq = 1; seq <= 4; seq++) {
                s.execute("INSERT INTO usage_minutes (node, seq, key_id, plan, minute, admitted, denied) VALUES"
                        + " ('gone', " + seq + ", 'key-gone', 'p', date_trunc('minute', now()), " + seq + ", 1)");
            }
            s.execute("INSERT INTO usage_totals (account, period, units) VALUES ('acct-gone', 'd:2026-01-01', 6)");
        }
        node.context().getBean(UsageLedger.class).compactOthers();

        assertThat(rows("acct-gone")).containsExactly("gone/0");
        assertThat(units("acct-gone")).containsExactly(6L);
        try (Connection c = db();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT seq, admitted, denied FROM usage_minutes WHERE key_id = 'key-gone' ORDER BY seq")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getLong(1)).as("batches 1 to 3 folded").isZero();
            assertThat(r.getLong(2)).isEqualTo(1 + 2 + 3);
            assertThat(r.getLong(3)).isEqualTo(3);
            assertThat(r.next()).isTrue();
            assertThat(r.getLong(1)).as("the newest batch stays as written").isEqualTo(4);
            assertThat(r.getLong(2)).isEqualTo(4);
            assertThat(r.next()).isFalse();
        }
        PlansDatabase.assertTotalsMatchTheLedger(url);
    }

    private static int check(String apiKey) {
        return PlansDatabase.checkByKey(node, apiKey);
    }

    private static String issue(String plan) {
        return PlansDatabase.issue(node, TOKEN, plan);
    }

    private static String account(String key) {
        return key.substring(3, key.indexOf('.'));
    }

    private static Connection db() throws SQLException {
        return DriverManager.getConnection(url, pg.user(), pg.password());
    }

    /** The service's own ledger and minute rows not yet folded. */
    private static long unfolded() throws SQLException {
        try (Connection c = db();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT (SELECT count(*) FROM usage_ledger WHERE seq > 0"
                        + " AND node <> 'gone' AND node NOT LIKE 'reset:%')"
                        + " + (SELECT count(*) FROM usage_minutes WHERE seq > 0 AND node <> 'gone')")) {
            r.next();
            return r.getLong(1);
        }
    }

    /** An account's ledger rows as "node/seq", by period. */
    private static List<String> rows(String account) throws SQLException {
        return query(
                "SELECT node || '/' || seq FROM usage_ledger WHERE account = ? ORDER BY period, node, seq", account);
    }

    /** An account's ledger units per row, by period. */
    private static List<Long> units(String account) throws SQLException {
        return query("SELECT units FROM usage_ledger WHERE account = ? ORDER BY period, node, seq", account).stream()
                .map(Long::valueOf)
                .toList();
    }

    private static List<String> query(String sql, String account) throws SQLException {
        try (Connection c = db();
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, account);
            List<String> out = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(r.getString(1));
                }
            }
            return out;
        }
    }

    private static boolean minuteRowsAreOnePerKeyAndMinute() throws SQLException {
        try (Connection c = db();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT count(*) FROM (SELECT key_id, minute FROM usage_minutes"
                        + " GROUP BY key_id, minute HAVING count(*) > 1) d")) {
            r.next();
            return r.getLong(1) == 0;
        }
    }

    /** What the admin API reports as the key's admitted checks over the last hour. */
    private static long usage(String key) {
        String id = account(key);
        String body = PlansDatabase.admin(node.url(), TOKEN, "GET", "/admin/usage?key=" + id, null)
                .body();
        Matcher m = Pattern.compile("\"admitted\":(\\d+)").matcher(body);
        assertThat(m.find()).as(body).isTrue();
        return Long.parseLong(m.group(1));
    }
}
