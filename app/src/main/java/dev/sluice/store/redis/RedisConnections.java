package dev.sluice.store.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.micronaut.configuration.lettuce.DefaultRedisClientFactory;
import io.micronaut.configuration.lettuce.DefaultRedisClusterClientFactory;
import io.micronaut.configuration.lettuce.DefaultRedisConfiguration;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Primary;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;

/**
 * micronaut-redis's default connections, made through {@link StartupConnect}: with a time limit of
 * their own and retries, so that a store answering late at start-up delays a node instead of
 * stopping it. The clients (and their tuning, {@link RedisClientTuning}) are micronaut-redis's.
 */
@Factory
public class RedisConnections {

    @Singleton
    @Primary
    @Bean(preDestroy = "close")
    @Requires(property = "redis.uris")
    @Replaces(bean = StatefulRedisClusterConnection.class, factory = DefaultRedisClusterClientFactory.class)
    StatefulRedisClusterConnection<String, String> clusterConnection(
            @Primary RedisClusterClient client, DefaultRedisConfiguration config, StartupConnect startup) {
        // the seeds' timeout bounds a connection's handshake and the wait for the topology: the
        // discovery timeout while starting, Lettuce's own (a minute) again once connected, for the
        // seeds and — after one refresh — for the nodes, which inherit it (a shorter one had the
        // handshakes of reconnects still pending when a node stops fail on its stopped loops)
        List<Duration> before =
                config.getUris().stream().map(RedisURI::getTimeout).toList();
        config.getUris().forEach(startup::limit);
        StatefulRedisClusterConnection<String, String> connection;
        try {
            connection = startup.connect("Redis Cluster", () -> client.connect(StringCodec.UTF8));
        } finally {
            for (int i = 0; i < before.size(); i++) {
                config.getUris().get(i).setTimeout(before.get(i));
            }
        }
        client.refreshPartitionsAsync();
        config.getReadFrom().ifPresent(connection::setReadFrom);
        return connection;
    }

    @Singleton
    @Primary
    @Bean(preDestroy = "close")
    @Requires(property = "redis.uri")
    @Requires(missingProperty = "redis.uris")
    @Replaces(bean = StatefulRedisConnection.class, factory = DefaultRedisClientFactory.class)
    StatefulRedisConnection<String, String> standaloneConnection(
            @Primary RedisClient client, @Value("${redis.uri}") String uri, StartupConnect startup) {
        RedisURI redis = startup.limit(RedisURI.create(uri));
        StatefulRedisConnection<String, String> connection =
                startup.connect("Redis", () -> client.connect(StringCodec.UTF8, redis));
        redis.setTimeout(RedisURI.DEFAULT_TIMEOUT_DURATION); // a reconnect's handshake: Lettuce's own
        return connection;
    }
}
