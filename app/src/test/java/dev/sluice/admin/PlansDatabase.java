package dev.sluice.admin;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisServers;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A fresh database of its own on the shared test PostgreSQL, and the properties of a service node
 * that uses it with the Redis Cluster and an admin token: what every plans test starts from.
 */
final class PlansDatabase {
    private PlansDatabase() {}

    /** Creates database {@code <prefix>_<random>}; answers its JDBC URL. */
    static String create(String prefix) {
        PostgresServer pg = RedisServers.postgres();
        String database = prefix + "_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return "jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + database;
    }

    /** Node properties (mutable) for database {@code url}, the Redis Cluster and admin token {@code token}. */
    static Map<String, Object> nodeProperties(String url, String token) {
        PostgresServer pg = RedisServers.postgres();
        Map<String, Object> p = new HashMap<>();
        p.put("redis.uris", RedisServers.cluster().uris());
        p.put("datasources.default.url", url);
        p.put("datasources.default.username", pg.user());
        p.put("datasources.default.password", pg.password());
        p.put("limiter.admin.tokens", token);
        return p;
    }

    /** An admin API call with {@code token} to {@code base}; {@code body} null sends none. */
    static HttpResponse<String> admin(String base, String token, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json");
        return ServiceNode.send(b.method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    /** The running totals (V6) agree with the ledger they summarise, for every account and period. */
    static void assertTotalsMatchTheLedger(String url) throws SQLException {
        PostgresServer pg = RedisServers.postgres();
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
                Statement s = c.createStatement();
                java.sql.ResultSet r =
                        s.executeQuery("SELECT count(*) FROM (SELECT account, period, sum(units) AS units"
                                + " FROM usage_ledger GROUP BY account, period) l FULL JOIN usage_totals t"
                                + " USING (account, period) WHERE l.units IS DISTINCT FROM t.units")) {
            r.next();
            org.assertj.core.api.Assertions.assertThat(r.getLong(1))
                    .as("periods whose total differs from the ledger")
                    .isZero();
        }
    }

    /** The ledger's units in database {@code url} for the account of API key {@code key} in {@code period}. */
    static long ledger(String url, String key, String period) throws SQLException {
        PostgresServer pg = RedisServers.postgres();
        String account = key.substring(3, key.indexOf('.'));
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
                java.sql.PreparedStatement s = c.prepareStatement(
                        "SELECT coalesce(sum(units), 0) FROM usage_ledger WHERE account = ? AND period = ?")) {
            s.setString(1, account);
            s.setString(2, period);
            try (java.sql.ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    /** A check by API key on {@code node} (header, no body); answers the status. */
    static int checkByKey(ServiceNode node, String apiKey) {
        return ServiceNode.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/check"))
                        .header("X-Api-Key", apiKey)
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build())
                .statusCode();
    }

    /** Issues a key of {@code plan} through {@code node}'s admin API; answers it once the node resolves it. */
    static String issue(ServiceNode node, String token, String plan) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"key\":\"([^\"]*)\"")
                .matcher(admin(node.url(), token, "POST", "/admin/keys", "{\"plan\":\"" + plan + "\"}")
                        .body());
        org.assertj.core.api.Assertions.assertThat(m.find()).isTrue();
        String key = m.group(1);
        dev.sluice.plans.KeyDirectory directory = node.context().getBean(dev.sluice.plans.KeyDirectory.class);
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(5))
                .until(() -> directory.resolve(key, java.time.Instant.now()).valid());
        return key;
    }
}
