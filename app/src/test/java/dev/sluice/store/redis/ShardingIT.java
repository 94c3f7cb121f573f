package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Limit;
import dev.sluice.store.Subject;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import dev.sluice.testkit.Resp;
import io.lettuce.core.cluster.SlotHash;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Subjects spread over every master; a key with braces or separators lives in its own slot. */
@ExtendWith(RedisServersExtension.class)
class ShardingIT {
    private static RedisCluster cluster;
    private static ClusterConnection connection;
    private static RedisScriptStore store;
    private static final KeyScheme KEYS = new KeyScheme("sl:");
    private static final Limit LIMIT = new Limit(10, 10, 60_000);

    @BeforeAll
    static void connect() {
        cluster = RedisServers.cluster();
        connection = new ClusterConnection(cluster, KEYS);
        store = connection.store;
    }

    @AfterAll
    static void disconnect() {
        connection.close();
    }

    @Test
    void subjectsSpreadOverAllThreeMasters() {
        Map<Integer, Integer> perMaster = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            Subject s = new Subject("spread", "user-" + i);
            store.acquire(s, LIMIT, 1).toCompletableFuture().join();
            int port = cluster.masterPortForSlot(SlotHash.getSlot(KEYS.key(s, KeyScheme.TOKEN_BUCKET)));
            perMaster.merge(port, 1, Integer::sum);
        }
        System.out.println("ShardingIT: 300 subjects per master port: " + perMaster);
        assertThat(perMaster).hasSize(3);
        perMaster.values().forEach(n -> assertThat(n).isGreaterThan(50));
        // and the keys really are on those masters
        long total = cluster.masters().stream()
                .mapToLong(m -> (Long) Resp.call(m.port(), "DBSIZE"))
                .sum();
        assertThat(total).isGreaterThanOrEqualTo(300);
    }

    @Test
    void aKeyWithBracesOrSeparatorsStaysInItsOwnSlotAndNeverCollides() {
        List<String> tricky = List.of("{victim}", "x}{victim", "victim}", "{victim", "a:b", "a%3Ab", "}{", "{}");
        Subject victim = new Subject("tricky", "victim");
        store.acquire(victim, LIMIT, 5).toCompletableFuture().join();
        for (String key : tricky) {
            Subject s = new Subject("tricky", key);
            String redisKey = KEYS.key(s, KeyScheme.TOKEN_BUCKET);
            assertThat(SlotHash.getSlot(redisKey)).as(key).isEqualTo(SlotHash.getSlot(KEYS.hashTag(s)));
            assertThat(store.acquire(s, LIMIT, 10).toCompletableFuture().join().allowed())
                    .as("fresh bucket for %s", key)
                    .isTrue();
            int port = cluster.masterPortForSlot(SlotHash.getSlot(redisKey));
            assertThat(Resp.call(port, "EXISTS", redisKey)).as(redisKey).isEqualTo(1L);
        }
        // none of them drew on the victim's bucket
        assertThat(store.acquire(victim, LIMIT, 0).toCompletableFuture().join().remaining())
                .isEqualTo(5);
    }
}
