package dev.sluice.store.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Pings Redis nodes for {@link CallBudget} through Lettuce, on connections of its own served by I/O
 * threads of its own (Lettuce's minimum of two): a ping never waits behind the checks on the
 * store's connections, nor behind their answers being handled on the store's event loops. Used for
 * TLS ({@code rediss://}), which {@link SocketProbe} does not speak; its send time is the time of
 * the call (the write follows on the event loop), so a starved event loop can make a ping look
 * later than it was. One connection per node, opened on first use
 * (or by {@link #warmUp}) and reopened after it fails; nothing is sent while no call is late.
 */
final class LettuceProbe implements StoreProbe {
    private final ClientResources resources;
    private final RedisClient client;
    private final Function<byte[], RedisURI> nodeOfKey;
    private final Supplier<List<RedisURI>> allNodes;
    private final Map<String, CompletableFuture<StatefulRedisConnection<byte[], byte[]>>> connections =
            new ConcurrentHashMap<>();
    private final Map<String, RedisURI> uris = new ConcurrentHashMap<>();
    private volatile EventLoopGroup group;
    private static final byte[] PAYLOAD =
            "s".repeat(SocketProbe.PAYLOAD).getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    LettuceProbe(Function<byte[], RedisURI> nodeOfKey, Supplier<List<RedisURI>> allNodes) {
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(1)
                .computationThreadPoolSize(1)
                .nettyCustomizer(new NettyCustomizer() {
                    @Override
                    public void afterChannelInitialized(Channel channel) {
                        group = channel.eventLoop().parent();
                    }
                })
                .build();
        this.client = RedisClient.create(resources);
        this.client.setOptions(ClientOptions.builder()
                .timeoutOptions(
                        TimeoutOptions.enabled(java.time.Duration.ofSeconds(1))) // a ping given up on still ends
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .build());
        this.nodeOfKey = nodeOfKey;
        this.allNodes = allNodes;
    }

    /** Answers the node's "host:port", the key of its connection and of its health in the budget. */
    @Override
    public Object nodeFor(byte[] key) {
        RedisURI uri = nodeOfKey.apply(key);
        if (uri == null) {
            return "unknown";
        }
        String id = id(uri);
        uris.putIfAbsent(id, uri);
        return id;
    }

    private static String id(RedisURI uri) {
        return uri.getHost() + ":" + uri.getPort();
    }

    /** Tells {@code sent} the time of the call: the write happens soon after, on the probe's event loop. */
    @Override
    public CompletionStage<?> ping(Object node, LongConsumer sent) {
        RedisURI uri = uris.get(node);
        sent.accept(System.nanoTime());
        if (uri == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no node serves the slot"));
        }
        return ping((String) node, uri);
    }

    private CompletionStage<?> ping(String id, RedisURI uri) {
        CompletableFuture<StatefulRedisConnection<byte[], byte[]>> connection = connections.computeIfAbsent(
                id, k -> client.connectAsync(ByteArrayCodec.INSTANCE, uri).toCompletableFuture());
        return connection.thenCompose(c -> c.async().echo(PAYLOAD)).whenComplete((pong, error) -> {
            if (error != null) {
                // a failed connect (or a connection that will not reconnect) is opened anew next time
                connections.remove(id, connection);
                if (connection.isDone() && !connection.isCompletedExceptionally()) {
                    StatefulRedisConnection<byte[], byte[]> c = connection.join();
                    if (!c.isOpen()) {
                        c.closeAsync();
                    } else {
                        connections.putIfAbsent(id, connection);
                    }
                }
            }
        });
    }

    /**
     * Runs {@code verdict} after each of the probe's event loops has selected and read its
     * connections at least once since this call: a task posted to a loop re-schedules itself, and
     * Netty runs scheduled tasks after the I/O of a pass. So an answer already on this host has been
     * handled by then, however busy the CPU was.
     */
    @Override
    public void afterReads(Object node, Runnable verdict) {
        EventLoopGroup g = group;
        if (g == null) {
            verdict.run();
            return;
        }
        List<EventExecutor> loops = new ArrayList<>();
        g.forEach(loops::add);
        afterReads(loops, 0, verdict);
    }

    private static void afterReads(List<EventExecutor> loops, int i, Runnable verdict) {
        if (i == loops.size()) {
            verdict.run();
            return;
        }
        EventExecutor l = loops.get(i);
        l.execute(() -> l.schedule(() -> afterReads(loops, i + 1, verdict), 0, TimeUnit.NANOSECONDS));
    }

    @Override
    public CompletionStage<Void> warmUp() {
        List<CompletableFuture<?>> pings = new ArrayList<>();
        for (RedisURI uri : allNodes.get()) {
            uris.putIfAbsent(id(uri), uri);
            pings.add(ping(id(uri), uri).toCompletableFuture().exceptionally(e -> null));
        }
        return CompletableFuture.allOf(pings.toArray(CompletableFuture[]::new));
    }

    @Override
    public void close() {
        client.shutdown();
        resources.shutdown();
    }
}
