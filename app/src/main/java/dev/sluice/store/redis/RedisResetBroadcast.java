package dev.sluice.store.redis;

import dev.sluice.store.ResetBroadcast;
import dev.sluice.store.Subject;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resets told to every node by Redis pub/sub on the channel {@code <prefix>resets} (a Redis Cluster
 * forwards a PUBLISH to every node, so one subscription anywhere hears all). A message is the
 * policy, a newline, the key. The subscription is opened in the background and retried every 5 s
 * until it succeeds (a node may start while Redis is down); Lettuce resubscribes after a reconnect.
 * Measured delay from a reset on one node to its cache forgotten on another: docs/architecture.md.
 */
final class RedisResetBroadcast implements ResetBroadcast {
    private static final Logger LOG = LoggerFactory.getLogger(RedisResetBroadcast.class);

    private final String channel;
    private final Function<String[], CompletionStage<?>> publish;
    private final Supplier<CompletionStage<StatefulRedisPubSubConnection<String, String>>> connect;
    private final List<Consumer<Subject>> listeners = new CopyOnWriteArrayList<>();
    private volatile StatefulRedisPubSubConnection<String, String> subscription;
    private volatile boolean closed;

    /**
     * @param publish sends {@code {channel, message}} on the store's connection
     * @param connect opens a pub/sub connection
     */
    RedisResetBroadcast(
            String channel,
            Function<String[], CompletionStage<?>> publish,
            Supplier<CompletionStage<StatefulRedisPubSubConnection<String, String>>> connect) {
        this.channel = channel;
        this.publish = publish;
        this.connect = connect;
        subscribe();
    }

    private void subscribe() {
        if (closed) {
            return;
        }
        CompletionStage<StatefulRedisPubSubConnection<String, String>> opening;
        try {
            opening = connect.get();
        } catch (RuntimeException e) {
            opening = CompletableFuture.failedFuture(e);
        }
        opening.thenCompose(c -> {
                    c.addListener(new RedisPubSubAdapter<>() {
                        @Override
                        public void message(String from, String message) {
                            heard(message);
                        }
                    });
                    subscription = c;
                    return c.async().subscribe(channel);
                })
                .whenComplete((ok, error) -> {
                    if (error != null) {
                        LOG.warn(
                                "Cannot subscribe to {} ({}): resets on other nodes reach this node's over-limit"
                                        + " cache only at their retry times; retrying in 5 s",
                                channel,
                                error.toString());
                        CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS).execute(this::subscribe);
                    }
                });
    }

    private void heard(String message) {
        int nl = message.indexOf('\n');
        if (nl <= 0) {
            return;
        }
        Subject subject = new Subject(message.substring(0, nl), message.substring(nl + 1));
        for (Consumer<Subject> l : listeners) {
            l.accept(subject);
        }
    }

    @Override
    public void announce(Subject subject) {
        try {
            publish.apply(new String[] {channel, subject.policy() + "\n" + subject.key()})
                    .whenComplete((n, error) -> {
                        if (error != null) {
                            LOG.debug("Reset of {} not announced: {}", subject, error.toString());
                        }
                    });
        } catch (RuntimeException e) {
            LOG.debug("Reset of {} not announced: {}", subject, e.toString());
        }
    }

    @Override
    public void listen(Consumer<Subject> listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        closed = true;
        StatefulRedisPubSubConnection<String, String> c = subscription;
        if (c != null) {
            c.closeAsync();
        }
    }
}
