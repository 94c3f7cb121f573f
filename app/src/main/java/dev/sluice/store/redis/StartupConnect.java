package dev.sluice.store.redis;

import dev.sluice.config.LimiterProperties;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.ProtocolKeyword;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's first connection to Redis, made at start-up: each attempt has its own time limit ({@code
 * limiter.redis.discovery-timeout}, not the 10 ms budget of a check), and a failed attempt is tried
 * again with back-off (200 ms doubling to 5 s, randomised by half, so that nodes started together
 * do not retry together) until {@code limiter.redis.startup-timeout}. A store that answers late at
 * start-up — a busy host, a cluster still forming, three nodes starting at once — delays the node,
 * and does not stop it. One line per failed attempt, one when Redis is reached.
 */
@Singleton
public final class StartupConnect {
    private static final Logger LOG = LoggerFactory.getLogger(StartupConnect.class);

    private final Duration discoveryTimeout;
    private final Duration startupTimeout;
    private volatile boolean connecting;

    public StartupConnect(LimiterProperties.Redis redis) {
        this(redis.getDiscoveryTimeout(), redis.getStartupTimeout());
    }

    StartupConnect(Duration discoveryTimeout, Duration startupTimeout) {
        this.discoveryTimeout = discoveryTimeout;
        this.startupTimeout = startupTimeout;
    }

    /**
     * Lettuce's timeout for {@code command} while a start-up attempt runs: the discovery timeout for
     * the commands of the handshake and of the topology discovery; otherwise {@code otherwise}.
     */
    long timeoutNanos(ProtocolKeyword command, long otherwise) {
        if (connecting
                && (command == CommandType.CLUSTER
                        || command == CommandType.INFO
                        || command == CommandType.HELLO
                        || command == CommandType.AUTH
                        || command == CommandType.CLIENT)) {
            return Math.max(discoveryTimeout.toNanos(), otherwise);
        }
        return otherwise;
    }

    /**
     * Gives {@code uri} the discovery timeout as its own: Lettuce bounds a connection's handshake
     * and the topology discovery by it (by default a minute).
     */
    RedisURI limit(RedisURI uri) {
        uri.setTimeout(discoveryTimeout);
        return uri;
    }

    /** Runs {@code attempt} (a Lettuce connect) until it succeeds or the start-up timeout has passed. */
    <T> T connect(String store, Supplier<T> attempt) {
        long begun = System.nanoTime();
        long deadline = begun + startupTimeout.toNanos();
        Retry retry = Retry.of(
                "redis-startup",
                RetryConfig.custom()
                        .maxAttempts(Integer.MAX_VALUE)
                        .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(
                                Duration.ofMillis(200), 2.0, 0.5, Duration.ofSeconds(5)))
                        .retryOnException(e -> e instanceof RedisException && System.nanoTime() < deadline)
                        .build());
        retry.getEventPublisher()
                .onRetry(e -> LOG.warn(
                        "{} not reached at start-up (attempt {}: {}); trying again in {} ms, giving up in {} ms",
                        store,
                        e.getNumberOfRetryAttempts(),
                        reason(e.getLastThrowable()),
                        e.getWaitInterval().toMillis(),
                        Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
        AtomicInteger attempts = new AtomicInteger();
        connecting = true;
        try {
            T connection = retry.executeSupplier(() -> {
                attempts.incrementAndGet();
                return attempt.get();
            });
            if (attempts.get() > 1) {
                LOG.info(
                        "{} reached at start-up after {} failed attempt(s), in {} ms",
                        store,
                        attempts.get() - 1,
                        (System.nanoTime() - begun) / 1_000_000);
            }
            return connection;
        } catch (RedisException e) {
            throw new RedisConnectionException(
                    store + " not reached within limiter.redis.startup-timeout (" + startupTimeout.toSeconds() + " s, "
                            + attempts.get() + " attempts); last: " + reason(e),
                    e);
        } finally {
            connecting = false;
        }
    }

    /** What went wrong, with the first node's own reason (Lettuce keeps it as a suppressed exception). */
    static String reason(Throwable e) {
        if (e == null) {
            return "unknown";
        }
        StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable detail = e.getSuppressed().length > 0 ? e.getSuppressed()[0] : e.getCause();
        if (detail != null && detail.getMessage() != null && !text.toString().contains(detail.getMessage())) {
            text.append(": ").append(detail.getMessage());
        }
        return text.toString().replaceAll("\\s+", " ").trim();
    }
}
