package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ServiceNode;
import dev.sluice.plans.KeyDirectory;
import dev.sluice.testkit.PostgresServer;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The in-memory key directory on two nodes sharing one PostgreSQL: a key issued or revoked through
 * one node's admin API reaches the other's directory within about a poll (1 s), and keys keep
 * resolving from memory while the database is down.
 */
@ExtendWith(RedisServersExtension.class)
class KeyDirectoryIT {
    private static final String TOKEN = "admin-" + UUID.randomUUID();
    private static PostgresServer pg;
    private static ServiceNode a;
    private static ServiceNode b;

    @BeforeAll
    static void start() throws SQLException {
        pg = RedisServers.postgres();
        Map<String, Object> p = PlansDatabase.nodeProperties(PlansDatabase.create("keys_it"), TOKEN);
        p.put("datasources.default.connection-timeout", 1000);
        a = ServiceNode.start(p);
        b = ServiceNode.start(p);
    }

    @AfterAll
    static void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static HttpResponse<String> admin(String path, String body) {
        return PlansDatabase.admin(a.url(), TOKEN, "POST", path, body);
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return m.group(1);
    }

    @Test
    void changesReachTheOtherNodeWithinAPollAndKeysResolveWithoutTheDatabase() {
        KeyDirectory onB = b.context().getBean(KeyDirectory.class);
        admin("/admin/plans", "{\"name\":\"dir\",\"limit\":10,\"period\":\"1m\"}");
        HttpResponse<String> issued = admin("/admin/keys", "{\"plan\":\"dir\"}");
        long t0 = System.nanoTime();
        String key = field(issued.body(), "key");
        String keep = field(admin("/admin/keys", "{\"plan\":\"dir\"}").body(), "key");
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> onB.resolve(key, Instant.now()).valid());
        long issuedMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(onB.resolve(key, Instant.now()).plan().name()).isEqualTo("dir");

        // wrong secret, unknown id, garbage: all invalid
        assertThat(onB.resolve(key.substring(0, key.length() - 1) + "x", Instant.now())
                        .valid())
                .isFalse();
        assertThat(onB.resolve("sk_nosuchkeyid.secret", Instant.now()).valid()).isFalse();
        assertThat(onB.resolve("garbage", Instant.now()).valid()).isFalse();

        String id = field(issued.body(), "id");
        long t1 = System.nanoTime();
        admin("/admin/keys/" + id + "/revoke", "");
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !onB.resolve(key, Instant.now()).valid());
        long revokedMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.printf(
                "KeyDirectoryIT: a key issued on node a resolved on node b after %d ms; a revocation reached b"
                        + " after %d ms (poll 1 s)%n",
                issuedMs, revokedMs);

        pg.stop();
        try {
            assertThat(onB.resolve(keep, Instant.now()).valid())
                    .as("resolved from memory")
                    .isTrue();
            assertThat(onB.resolve(key, Instant.now()).valid()).isFalse();
        } finally {
            pg.restart();
        }
    }
}
