package dev.sluice.store.redis;

import dev.sluice.config.LimiterProperties;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import jakarta.inject.Singleton;

/**
 * Tunes the Lettuce clients that micronaut-redis creates, before any connection is made: a short
 * command timeout that also bounds asynchronous commands, and for a cluster periodic plus adaptive
 * topology refresh (MOVED, ASK, reconnects, uncovered slots) so a failover is followed quickly.
 */
@Factory
public class RedisClientTuning {

    @Singleton
    @Requires(property = "redis.uri")
    BeanCreatedEventListener<RedisClient> standalone(LimiterProperties.Redis redis) {
        return (BeanCreatedEvent<RedisClient> event) -> {
            RedisClient client = event.getBean();
            client.setOptions(ClientOptions.builder()
                    .timeoutOptions(TimeoutOptions.enabled(redis.getCommandTimeout()))
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .build());
            return client;
        };
    }

    @Singleton
    @Requires(property = "redis.uris")
    BeanCreatedEventListener<RedisClusterClient> cluster(LimiterProperties.Redis redis) {
        return (BeanCreatedEvent<RedisClusterClient> event) -> {
            RedisClusterClient client = event.getBean();
            client.setOptions(ClusterClientOptions.builder()
                    .timeoutOptions(TimeoutOptions.enabled(redis.getCommandTimeout()))
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(redis.getTopologyRefreshPeriod())
                            .enableAllAdaptiveRefreshTriggers()
                            .adaptiveRefreshTriggersTimeout(redis.getAdaptiveRefreshTimeout())
                            .build())
                    .build());
            return client;
        };
    }
}
