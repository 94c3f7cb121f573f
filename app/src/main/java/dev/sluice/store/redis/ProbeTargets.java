package dev.sluice.store.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/** Which Redis node a probe pings for a key, and which nodes it warms up: one, or a cluster's masters. */
record ProbeTargets(Function<byte[], RedisURI> nodeOfKey, Supplier<List<RedisURI>> all) {

    static ProbeTargets standalone(RedisURI uri) {
        return new ProbeTargets(key -> uri, () -> List.of(uri));
    }

    /** The master of a key's slot, as the cluster connection currently sees the topology. */
    static ProbeTargets cluster(StatefulRedisClusterConnection<?, ?> connection) {
        return new ProbeTargets(
                key -> {
                    RedisClusterNode master = connection.getPartitions().getPartitionBySlot(SlotHash.getSlot(key));
                    return master == null ? null : master.getUri();
                },
                () -> {
                    List<RedisURI> masters = new ArrayList<>();
                    for (RedisClusterNode n : connection.getPartitions()) {
                        if (n.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                            masters.add(n.getUri());
                        }
                    }
                    return masters;
                });
    }

    /** A probe for these nodes: plain sockets ({@link SocketProbe}), or Lettuce for TLS ({@link LettuceProbe}). */
    StoreProbe probe(boolean tls) {
        return tls ? new LettuceProbe(nodeOfKey, all) : new SocketProbe(nodeOfKey, all);
    }
}
