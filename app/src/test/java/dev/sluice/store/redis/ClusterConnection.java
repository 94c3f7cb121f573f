package dev.sluice.store.redis;

import dev.sluice.testkit.RedisCluster;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.util.Arrays;

/** A Lettuce connection to the test cluster and a {@link RedisScriptStore} on it, closed together. */
final class ClusterConnection implements AutoCloseable {
    final RedisClusterClient client;
    final StatefulRedisClusterConnection<String, String> connection;
    final RedisScriptStore store;

    ClusterConnection(RedisCluster cluster, KeyScheme keys) {
        client = RedisClusterClient.create(
                Arrays.stream(cluster.uris().split(",")).map(RedisURI::create).toList());
        connection = client.connect();
        store = new RedisScriptStore(connection.async(), keys, "redis-cluster");
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
