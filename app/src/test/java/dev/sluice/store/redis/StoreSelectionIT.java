package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.InProcessStore;
import dev.sluice.store.RateLimitStore;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.micronaut.context.ApplicationContext;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The store is chosen by configuration, and the Lettuce clients are tuned before they connect. */
@ExtendWith(RedisServersExtension.class)
class StoreSelectionIT {

    @Test
    void neitherSettingMeansTheInProcessStoreAndNoRedisClient() {
        try (ApplicationContext ctx = ApplicationContext.run()) {
            assertThat(ctx.getBean(RateLimitStore.class)).isInstanceOf(InProcessStore.class);
            assertThat(ctx.containsBean(RedisClient.class)).isFalse();
            assertThat(ctx.containsBean(RedisClusterClient.class)).isFalse();
        }
    }

    @Test
    void redisUriMeansStandaloneWithTheBudgetAndLettucesTimeoutBehindTheWaitCap() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of(
                "redis.uri", RedisServers.standalone().uri(),
                "limiter.redis.command-timeout", "123ms",
                "limiter.redis.wait-cap", "700ms"))) {
            assertThat(ctx.getBean(RateLimitStore.class).kind()).isEqualTo("redis");
            assertThat(ctx.getBean(CallBudget.class).millis()).isEqualTo(123);
            ClientOptions options = ctx.getBean(RedisClient.class).getOptions();
            assertThat(options.getTimeoutOptions().isTimeoutCommands()).isTrue();
            var source = options.getTimeoutOptions().getSource();
            // a backstop only: the budget's cap (700 ms) gives up first
            assertThat(source.getTimeUnit().toMillis(source.getTimeout(null))).isEqualTo(1200);
            assertThat(source.getTimeUnit()
                            .toMillis(source.getTimeout(new io.lettuce.core.protocol.Command<>(
                                    io.lettuce.core.protocol.CommandType.GET, null))))
                    .isEqualTo(1200);
            // by default a script has the same backstop (limiter.redis.late-answer-timeout: 0)
            assertThat(source.getTimeUnit()
                            .toMillis(source.getTimeout(new io.lettuce.core.protocol.Command<>(
                                    io.lettuce.core.protocol.CommandType.EVALSHA, null))))
                    .isEqualTo(1200);
            assertThat(options.getDisconnectedBehavior()).isEqualTo(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
        }
    }

    @Test
    void redisUrisMeansTheClusterWithPeriodicAndAdaptiveTopologyRefresh() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of(
                "redis.uris", RedisServers.cluster().uris(),
                "limiter.redis.topology-refresh-period", "7s",
                "limiter.redis.adaptive-refresh-timeout", "300ms"))) {
            assertThat(ctx.getBean(RateLimitStore.class).kind()).isEqualTo("redis-cluster");
            ClusterClientOptions options =
                    (ClusterClientOptions) ctx.getBean(RedisClusterClient.class).getOptions();
            ClusterTopologyRefreshOptions refresh = options.getTopologyRefreshOptions();
            assertThat(refresh.isPeriodicRefreshEnabled()).isTrue();
            assertThat(refresh.getRefreshPeriod()).isEqualTo(Duration.ofSeconds(7));
            assertThat(refresh.getAdaptiveRefreshTriggers())
                    .contains(
                            ClusterTopologyRefreshOptions.RefreshTrigger.MOVED_REDIRECT,
                            ClusterTopologyRefreshOptions.RefreshTrigger.PERSISTENT_RECONNECTS);
            assertThat(refresh.getAdaptiveRefreshTimeout()).isEqualTo(Duration.ofMillis(300));
            assertThat(options.getTimeoutOptions().isTimeoutCommands()).isTrue();
        }
    }

    @Test
    void theKeyPrefixIsBound() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of("limiter.key-prefix", "x:"))) {
            assertThat(ctx.getBean(KeyScheme.class).key(new dev.sluice.store.Subject("p", "k"), "tb"))
                    .isEqualTo("x:{p:k}:tb");
        }
    }
}
