package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.lua.LuaScript;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.StoreContract;
import dev.sluice.store.Subject;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RedisServersExtension.class)
class StandaloneRedisStoreIT extends StoreContract {
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;
    private static RedisScriptStore store;

    @BeforeAll
    static void connect() {
        client = RedisClient.create(RedisServers.standalone().uri());
        connection = client.connect();
        store = new RedisScriptStore(connection.async(), new KeyScheme("sl:"), "redis");
    }

    @AfterAll
    static void disconnect() {
        connection.close();
        client.shutdown();
    }

    @Override
    protected RateLimitStore store() {
        return store;
    }

    @Test
    void anEmptyScriptCacheIsRefilledByEvalOnNoScript() {
        connection.sync().scriptFlush();
        assertThat(connection.sync().scriptExists(LuaScript.TOKEN_BUCKET.sha1()))
                .containsExactly(false);
        Decision d = store.acquire(new Subject("noscript", "k"), new Limit(5, 5, 1_000), 1)
                .toCompletableFuture()
                .join();
        assertThat(d.allowed()).isTrue();
        assertThat(connection.sync().scriptExists(LuaScript.TOKEN_BUCKET.sha1()))
                .containsExactly(true);
    }

    @Test
    void everyWriteHasATtlUntilTheBucketIsFull() {
        Subject s = new Subject("ttl", "k");
        store.acquire(s, new Limit(10, 10, 60_000), 3).toCompletableFuture().join();
        long pttl = connection.sync().pttl("sl:{ttl:k}:tb");
        assertThat(pttl).isBetween(17_000L, 18_000L);
    }
}
