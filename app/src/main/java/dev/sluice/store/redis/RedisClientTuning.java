package dev.sluice.store.redis;

import dev.sluice.config.LimiterProperties;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerCommandLatencyRecorder;
import io.lettuce.core.metrics.MicrometerOptions;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.EventLoopGroupProvider;
import io.lettuce.core.resource.NettyCustomizer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.configuration.lettuce.ClientResourcesMutator;
import io.micronaut.configuration.lettuce.MetricsClientResourceMutator;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Tunes the Lettuce clients that micronaut-redis creates, before any connection is made: a command
 * timeout behind the store's own budget ({@link CallBudget}) that also bounds asynchronous
 * commands, and for a cluster periodic plus adaptive
 * topology refresh (MOVED, ASK, reconnects, uncovered slots) so a failover is followed quickly.
 */
@Factory
public class RedisClientTuning {

    /**
     * Reconnects after a lost connection back off exponentially from 10 ms to {@code
     * limiter.redis.reconnect-max-delay} (default 1 s) instead of Lettuce's 30 s: after an outage
     * the node finds Redis again within about a second.
     */
    @Singleton
    ClientResourcesMutator reconnectDelay(
            LimiterProperties.Redis redis, io.micronaut.context.BeanProvider<EventLoopGroup> serverLoops) {
        return (builder, config) -> {
            builder.reconnectDelay(
                    Delay.exponential(Duration.ofMillis(10), redis.getReconnectMaxDelay(), 2, TimeUnit.MILLISECONDS));
            if (redis.isConsolidateFlushes()) {
                builder.nettyCustomizer(new ConsolidatedFlushes());
            }
            if (redis.isShareEventLoops() && serverLoops.isPresent()) {
                builder.eventLoopGroupProvider(new SharedEventLoops(serverLoops.get()));
            }
        };
    }

    /**
     * Lettuce's connections on the HTTP server's own event loops: a check whose request and Redis
     * connection share a loop is written, answered and responded to without a hand-over between
     * threads. The loops are the server's; Lettuce never shuts them down.
     */
    static final class SharedEventLoops implements EventLoopGroupProvider {
        private final EventLoopGroup group;

        SharedEventLoops(EventLoopGroup group) {
            this.group = group;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T extends EventLoopGroup> T allocate(Class<T> type) {
            return (T) group;
        }

        @Override
        public int threadPoolSize() {
            int n = 0;
            for (io.netty.util.concurrent.EventExecutor ignored : group) {
                n++;
            }
            return n;
        }

        @Override
        public io.netty.util.concurrent.Future<Boolean> release(
                io.netty.util.concurrent.EventExecutorGroup eventLoopGroup,
                long quietPeriod,
                long timeout,
                TimeUnit unit) {
            return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
        }

        @Override
        public io.netty.util.concurrent.Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit timeUnit) {
            return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
        }
    }

    /**
     * Replaces micronaut-redis's mutator that always installs Lettuce's Micrometer command latency
     * recorder (two histogram timers per command): off unless {@code
     * limiter.redis.command-latency-metrics} is true, since {@code sluice.store.latency} times every
     * store decision already.
     */
    @Singleton
    @Replaces(MetricsClientResourceMutator.class)
    @Requires(beans = MeterRegistry.class)
    ClientResourcesMutator commandLatency(LimiterProperties.Redis redis, MeterRegistry meters) {
        return (builder, config) -> builder.commandLatencyRecorder(
                redis.isCommandLatencyMetrics()
                        ? new MicrometerCommandLatencyRecorder(
                                meters,
                                MicrometerOptions.builder().histogram(true).build())
                        : CommandLatencyRecorder.disabled());
    }

    /**
     * Each check's command is written by the thread that decided it and flushed at once: under load
     * that is a socket write per command here and a read per command in Redis. Netty's {@link
     * FlushConsolidationHandler} (at the head of the pipeline, after Lettuce's encoder) turns the
     * flushes asked for during one turn of the connection's event loop into one write at its end; a
     * lone command is still written in the same turn, so an idle service adds no delay.
     */
    static final class ConsolidatedFlushes implements NettyCustomizer {
        @Override
        public void afterChannelInitialized(Channel channel) {
            channel.pipeline()
                    .addFirst(
                            "sluice-flush-consolidation",
                            new FlushConsolidationHandler(
                                    FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        }
    }

    /**
     * Lettuce's own command timeouts: the wait cap + 500 ms for every command; scripts get {@code
     * limiter.redis.late-answer-timeout} when it is longer (off by default). A script is a consume or a
     * refund; once its caller has been answered by the failure mode, Lettuce keeps it only so that
     * its answer can still be settled ({@code sluice_store_late_answers_total}): a Redis stalled
     * for 2 s runs the commands written before the stall when it resumes, and a consume Lettuce had
     * timed out at 1.5 s was then counted twice unseen (measured: a SIGSTOPped master, 3–4 units
     * charged for 503s by {@code closed}). While a node connects at start-up, the handshake and the
     * topology discovery get {@code limiter.redis.discovery-timeout} ({@link StartupConnect}).
     */
    static TimeoutOptions timeouts(LimiterProperties.Redis redis, StartupConnect startup) {
        long scripts = Math.max(
                redis.getLateAnswerTimeout().toNanos(), redis.lettuceTimeout().toNanos());
        long others = redis.lettuceTimeout().toNanos();
        return TimeoutOptions.builder()
                .timeoutCommands()
                .timeoutSource(new TimeoutOptions.TimeoutSource() {
                    @Override
                    public long getTimeout(io.lettuce.core.protocol.RedisCommand<?, ?, ?> command) {
                        io.lettuce.core.protocol.ProtocolKeyword type = command == null ? null : command.getType();
                        if (type == io.lettuce.core.protocol.CommandType.EVALSHA
                                || type == io.lettuce.core.protocol.CommandType.EVAL) {
                            return scripts;
                        }
                        return startup.timeoutNanos(type, others);
                    }

                    @Override
                    public TimeUnit getTimeUnit() {
                        return TimeUnit.NANOSECONDS;
                    }
                })
                .build();
    }

    @Singleton
    @Requires(property = "redis.uri")
    BeanCreatedEventListener<RedisClient> standalone(LimiterProperties.Redis redis, StartupConnect startup) {
        return (BeanCreatedEvent<RedisClient> event) -> {
            RedisClient client = event.getBean();
            client.setOptions(ClientOptions.builder()
                    .timeoutOptions(timeouts(redis, startup))
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .build());
            logConnections(client.getResources());
            return client;
        };
    }

    @Singleton
    @Requires(property = "redis.uris")
    BeanCreatedEventListener<RedisClusterClient> cluster(LimiterProperties.Redis redis, StartupConnect startup) {
        return (BeanCreatedEvent<RedisClusterClient> event) -> {
            RedisClusterClient client = event.getBean();
            client.setOptions(ClusterClientOptions.builder()
                    .timeoutOptions(timeouts(redis, startup))
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(redis.getTopologyRefreshPeriod())
                            .enableAllAdaptiveRefreshTriggers()
                            .adaptiveRefreshTriggersTimeout(redis.getAdaptiveRefreshTimeout())
                            .build())
                    .build());
            logConnections(client.getResources());
            return client;
        };
    }

    /** Lettuce's connection events, logged once per change per node ({@link ConnectionLog}). */
    private static void logConnections(io.lettuce.core.resource.ClientResources resources) {
        ConnectionLog log = new ConnectionLog();
        resources.eventBus().get().subscribe(log::on);
    }
}
