package dev.sluice.store.redis;

import dev.sluice.store.ResetBroadcast;
import dev.sluice.store.Subject;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resets and refunds told to every node by Redis pub/sub on the channel {@code <prefix>resets} (a
 * Redis Cluster forwards a PUBLISH to every node, so one subscription anywhere hears all).
 *
 * <p>Sending: subjects announced while a PUBLISH is under way wait and leave together in the next
 * one (at most {@link #MAX_BATCH} a message), so a burst of refunds costs one PUBLISH per round
 * trip, not one per refund, and a subject announced twice meanwhile is sent once. A PUBLISH that
 * fails is sent again every {@link #RETRY_DELAY} until {@code retryFor} after the announcement —
 * past that, every denial kept elsewhere before it has expired by itself (the over-limit cache
 * keeps none longer), so it is dropped. A message is {@code *\n} then, per subject, the policy, a
 * newline, the key's length in chars, a newline and the key; a message without the star (an older
 * node's) is one policy, a newline and the key.
 *
 * <p>Hearing: the subscription is opened in the background and retried every 5 s until it
 * succeeds (a node may start while Redis is down); Lettuce subscribes again after a reconnect, and
 * every subscription after the first tells the gap listeners that announcements may have been
 * missed meanwhile. Measured delays: docs/architecture.md.
 */
final class RedisResetBroadcast implements ResetBroadcast {
    private static final Logger LOG = LoggerFactory.getLogger(RedisResetBroadcast.class);

    /** The most subjects one message carries. */
    static final int MAX_BATCH = 64;

    /** How long a failed PUBLISH waits before it is sent again. */
    static final Duration RETRY_DELAY = Duration.ofMillis(50);

    private static final Executor RETRY =
            CompletableFuture.delayedExecutor(RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS);

    private final String channel;
    private final Function<String[], CompletionStage<?>> publish;
    private final Supplier<CompletionStage<StatefulRedisPubSubConnection<String, String>>> connect;
    private final long retryForNanos;
    private final List<Consumer<Subject>> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> gapListeners = new CopyOnWriteArrayList<>();

    /** Subjects waiting to be sent, each with the time (System.nanoTime) after which it is dropped. */
    private final Map<Subject, Long> pending = new ConcurrentHashMap<>();

    private final AtomicBoolean sending = new AtomicBoolean();
    private final AtomicInteger subscriptions = new AtomicInteger();
    private volatile StatefulRedisPubSubConnection<String, String> subscription;
    private volatile boolean closed;

    /**
     * @param publish sends {@code {channel, message}} on the store's connection
     * @param connect opens a pub/sub connection
     * @param retryFor how long an announcement that cannot be sent is tried again
     */
    RedisResetBroadcast(
            String channel,
            Function<String[], CompletionStage<?>> publish,
            Supplier<CompletionStage<StatefulRedisPubSubConnection<String, String>>> connect,
            Duration retryFor) {
        this.channel = channel;
        this.publish = publish;
        this.connect = connect;
        this.retryForNanos = retryFor.toNanos();
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

                        @Override
                        public void subscribed(String to, long count) {
                            if (channel.equals(to) && subscriptions.getAndIncrement() > 0) {
                                LOG.debug("Subscribed to {} again: resets and refunds may have been missed", channel);
                                gapListeners.forEach(Runnable::run);
                            }
                        }
                    });
                    subscription = c;
                    return c.async().subscribe(channel);
                })
                .whenComplete((ok, error) -> {
                    if (error != null) {
                        LOG.warn(
                                "Cannot subscribe to {} ({}): resets and refunds on other nodes reach this node's"
                                        + " over-limit cache only when its denials expire; retrying in 5 s",
                                channel,
                                error.toString());
                        CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS).execute(this::subscribe);
                    }
                });
    }

    private void heard(String message) {
        List<Subject> subjects = decode(message);
        for (Subject subject : subjects) {
            for (Consumer<Subject> l : listeners) {
                l.accept(subject);
            }
        }
    }

    /** One message for {@code subjects}. */
    static String encode(List<Subject> subjects) {
        StringBuilder sb = new StringBuilder("*\n");
        for (Subject s : subjects) {
            sb.append(s.policy())
                    .append('\n')
                    .append(s.key().length())
                    .append('\n')
                    .append(s.key());
        }
        return sb.toString();
    }

    /** The subjects of a message (an older node's single-subject form too); none if it is malformed. */
    static List<Subject> decode(String message) {
        if (!message.startsWith("*\n")) {
            int nl = message.indexOf('\n');
            return nl <= 0 ? List.of() : List.of(new Subject(message.substring(0, nl), message.substring(nl + 1)));
        }
        List<Subject> subjects = new ArrayList<>();
        int at = 2;
        while (at < message.length()) {
            int policyEnd = message.indexOf('\n', at);
            int lengthEnd = policyEnd < 0 ? -1 : message.indexOf('\n', policyEnd + 1);
            if (lengthEnd < 0) {
                return List.of();
            }
            int length;
            try {
                length = Integer.parseInt(message, policyEnd + 1, lengthEnd, 10);
            } catch (NumberFormatException e) {
                return List.of();
            }
            int keyEnd = lengthEnd + 1 + length;
            if (length < 0 || keyEnd > message.length()) {
                return List.of();
            }
            subjects.add(new Subject(message.substring(at, policyEnd), message.substring(lengthEnd + 1, keyEnd)));
            at = keyEnd;
        }
        return subjects;
    }

    @Override
    public void announce(Subject subject) {
        pending.merge(subject, System.nanoTime() + retryForNanos, Math::max);
        send();
    }

    /** Sends what is pending unless a PUBLISH is under way (which sends the rest when it completes). */
    private void send() {
        while (!pending.isEmpty() && sending.compareAndSet(false, true)) {
            long now = System.nanoTime();
            Map<Subject, Long> batch = new HashMap<>();
            int dropped = 0;
            for (Iterator<Map.Entry<Subject, Long>> it = pending.entrySet().iterator();
                    it.hasNext() && batch.size() < MAX_BATCH; ) {
                Map.Entry<Subject, Long> e = it.next();
                it.remove();
                if (e.getValue() - now < 0) {
                    dropped++;
                } else {
                    batch.put(e.getKey(), e.getValue());
                }
            }
            if (dropped > 0) {
                LOG.debug(
                        "{} reset(s)/refund(s) not announced on {}: the store did not take them in time; denials"
                                + " kept elsewhere expire by themselves",
                        dropped,
                        channel);
            }
            if (batch.isEmpty()) {
                sending.set(false);
                continue;
            }
            CompletionStage<?> sent;
            try {
                sent = publish.apply(new String[] {channel, encode(new ArrayList<>(batch.keySet()))});
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            sent.whenComplete((n, error) -> {
                if (error == null) {
                    sending.set(false);
                    send();
                    return;
                }
                LOG.debug("Announcement on {} failed, sending it again: {}", channel, error.toString());
                batch.forEach((s, until) -> pending.merge(s, until, Math::max));
                RETRY.execute(() -> {
                    sending.set(false);
                    send();
                });
            });
            return;
        }
    }

    @Override
    public void listen(Consumer<Subject> listener) {
        listeners.add(listener);
    }

    @Override
    public void listenForGaps(Runnable listener) {
        gapListeners.add(listener);
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
