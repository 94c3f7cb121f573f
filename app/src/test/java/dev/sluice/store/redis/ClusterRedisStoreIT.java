package dev.sluice.store.redis;

import dev.sluice.store.StoreContract;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RedisServersExtension.class)
class ClusterRedisStoreIT extends StoreContract<RedisScriptStore> {
    private static ClusterConnection cluster;

    @BeforeAll
    static void connect() {
        cluster = new ClusterConnection(RedisServers.cluster(), new KeyScheme("sl:"));
    }

    @AfterAll
    static void disconnect() {
        cluster.close();
    }

    @Override
    protected RedisScriptStore store() {
        return cluster.store;
    }
}
