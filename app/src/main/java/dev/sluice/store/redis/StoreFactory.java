package dev.sluice.store.redis;

import dev.sluice.config.BreakerProperties;
import dev.sluice.config.LimiterProperties;
import dev.sluice.config.OverLimitCacheProperties;
import dev.sluice.core.NodeClock;
import dev.sluice.region.RegionMode;
import dev.sluice.store.InProcessStore;
import dev.sluice.store.ResetBroadcast;
import dev.sluice.store.StoreRoles;
import dev.sluice.store.StoreShards;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the store by configuration: {@code redis.uris} (REDIS_URIS) a Redis Cluster,
 * {@code redis.uri} (REDIS_URI) one standalone Redis, neither the in-process store.
 */
@Factory
public class StoreFactory {
    private static final Logger LOG = LoggerFactory.getLogger(StoreFactory.class);

    @Singleton
    KeyScheme keyScheme(LimiterProperties properties) {
        return new KeyScheme(properties.getKeyPrefix());
    }

    /** Pings the master of a late call's slot (CallBudget), on connections of its own. */
    @Singleton
    @Bean(preDestroy = "close")
    @Requires(property = "redis.uris")
    StoreProbe clusterProbe(
            StatefulRedisClusterConnection<String, String> connection, @Value("${redis.uris}") String uris) {
        return ProbeTargets.cluster(connection).probe(uris.trim().startsWith("rediss:"));
    }

    /**
     * The shard of a subject: the master serving its hash slot, by the probe's view of the cluster
     * (refreshed with the topology, so a failover moves the subject to its new master's shard).
     */
    @Singleton
    @Requires(property = "redis.uris")
    StoreShards clusterShards(StoreProbe probe, KeyScheme keys) {
        // the tag holds no brace (KeyScheme escapes them), so its own slot is the slot of "{tag}",
        // the subject's keys' slot
        return subject -> probe.nodeFor(keys.hashTag(subject).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Pings the standalone Redis when a call is late (CallBudget), on a connection of its own. */
    @Singleton
    @Bean(preDestroy = "close")
    @Requires(property = "redis.uri")
    @Requires(missingProperty = "redis.uris")
    StoreProbe standaloneProbe(@Value("${redis.uri}") String uri) {
        RedisURI redis = RedisURI.create(uri);
        return ProbeTargets.standalone(redis).probe(redis.isSsl());
    }

    /**
     * Resets and refunds told to every node (their over-limit caches), over the cluster's pub/sub;
     * an announcement is tried for as long as a denial may be kept elsewhere.
     */
    @Singleton
    @Bean(preDestroy = "close")
    @Requires(property = "redis.uris")
    ResetBroadcast clusterResets(
            RedisClusterClient client,
            StatefulRedisClusterConnection<String, String> connection,
            KeyScheme keys,
            OverLimitCacheProperties cache) {
        return new RedisResetBroadcast(
                keys.resetsChannel(),
                m -> connection.async().publish(m[0], m[1]),
                () -> client.connectPubSubAsync(StringCodec.UTF8).thenApply(c -> c),
                cache.getMaxKeep());
    }

    /** Resets and refunds told to every node (their over-limit caches), over Redis pub/sub. */
    @Singleton
    @Bean(preDestroy = "close")
    @Requires(property = "redis.uri")
    @Requires(missingProperty = "redis.uris")
    ResetBroadcast standaloneResets(
            RedisClient client,
            StatefulRedisConnection<String, String> connection,
            KeyScheme keys,
            OverLimitCacheProperties cache,
            @Value("${redis.uri}") String uri) {
        return new RedisResetBroadcast(
                keys.resetsChannel(),
                m -> connection.async().publish(m[0], m[1]),
                () -> client.connectPubSubAsync(StringCodec.UTF8, RedisURI.create(uri))
                        .toCompletableFuture(),
                cache.getMaxKeep());
    }

    /**
     * The store calls' time budget (limiter.redis.command-timeout, probe-timeout, wait-cap); its
     * thread stops with the service.
     */
    @Singleton
    @Bean(preDestroy = "close")
    CallBudget callBudget(LimiterProperties.Redis redis, Optional<StoreProbe> probe) {
        return new CallBudget(
                redis.getCommandTimeout(),
                redis.getWaitCap(),
                redis.getProbeTimeout(),
                redis.getBusyProbeTimeout(),
                redis.getBusyRate(),
                redis.getBusyQueue(),
                HostPressure.psi(),
                probe.orElse(StoreProbe.NONE));
    }

    @Singleton
    @Requires(property = "redis.uris")
    StoreRoles clusterStore(
            StatefulRedisClusterConnection<String, String> connection,
            KeyScheme keys,
            CallBudget budget,
            BreakerProperties breaker,
            MeterRegistry meters,
            StoreShards shards,
            RegionMode regions) {
        LOG.info("Sluice store: Redis Cluster; limits hold across every node sharing it");
        return StoreBreakers.guard(
                new RedisScriptStore(connection.async(), keys, "redis-cluster", budget, regions),
                breaker,
                meters,
                shards);
    }

    @Singleton
    @Requires(property = "redis.uri")
    @Requires(missingProperty = "redis.uris")
    StoreRoles standaloneStore(
            StatefulRedisConnection<String, String> connection,
            KeyScheme keys,
            CallBudget budget,
            BreakerProperties breaker,
            MeterRegistry meters,
            RegionMode regions) {
        LOG.info("Sluice store: standalone Redis; limits hold across every node sharing it");
        return StoreBreakers.guard(
                new RedisScriptStore(connection.async(), keys, "redis", budget, regions), breaker, meters);
    }

    @Context // created at start-up, so the per-node warning is the first thing an operator sees
    @Requires(missingProperty = "redis.uri")
    @Requires(missingProperty = "redis.uris")
    StoreRoles inProcessStore(NodeClock clock) {
        LOG.warn("Sluice store: in-process (neither REDIS_URIS nor REDIS_URI is set). Limits hold per node"
                + " only: N nodes admit up to N times each limit. Set REDIS_URIS or REDIS_URI to share limits.");
        return StoreRoles.of(new InProcessStore(clock));
    }
}
