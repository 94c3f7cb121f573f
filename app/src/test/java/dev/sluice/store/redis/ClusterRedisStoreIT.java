package dev.sluice.store.redis;

import dev.sluice.store.RateLimitStore;
import dev.sluice.store.StoreContract;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RedisServersExtension.class)
class ClusterRedisStoreIT extends StoreContract {
    private static RedisClusterClient client;
    private static StatefulRedisClusterConnection<String, String> connection;
    private static RedisScriptStore store;

    @BeforeAll
    static void connect() {
        client = RedisClusterClient.create(
                Arrays.stream(RedisServers.cluster().uris().split(","))
                        .map(RedisURI::create)
                        .toList());
        connection = client.connect();
        store = new RedisScriptStore(connection.async(), new KeyScheme("sl:"), "redis-cluster");
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
}
