package dev.sluice.observability;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.micronaut.configuration.lettuce.health.RedisHealthIndicator;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Publisher;

/**
 * {@code /health}'s {@code redis}: a PING on the service's own Redis connection, answered within
 * {@link #TIMEOUT} (or Lettuce's command timeout, if shorter) or DOWN. It replaces micronaut-redis's indicator, which connects anew for every
 * check and waits 10 s per attempt, three times: with Redis stopped (SIGSTOP: it takes connections
 * and answers nothing) {@code /health} hung for 36 s (found black-box) — the first step of the
 * store-degraded runbook. A Redis that refuses connections is DOWN at once, as before.
 */
@Singleton
@Replaces(RedisHealthIndicator.class)
@Requires(classes = RedisHealthIndicator.class)
@Requires(property = "endpoints.health.enabled", notEquals = "false")
public class RedisHealth implements HealthIndicator {
    /** How long the PING may take. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    private final Optional<StatefulRedisClusterConnection<String, String>> cluster;
    private final Optional<StatefulRedisConnection<String, String>> standalone;

    public RedisHealth(
            Optional<StatefulRedisClusterConnection<String, String>> cluster,
            Optional<StatefulRedisConnection<String, String>> standalone) {
        this.cluster = cluster;
        this.standalone = standalone;
    }

    @Override
    public Publisher<HealthResult> getResult() {
        CompletableFuture<String> ping;
        try {
            if (cluster.isPresent()) {
                ping = cluster.get().async().ping().toCompletableFuture();
            } else if (standalone.isPresent()) {
                ping = standalone.get().async().ping().toCompletableFuture();
            } else {
                return Publishers.empty();
            }
        } catch (RuntimeException e) {
            ping = CompletableFuture.failedFuture(e);
        }
        long started = System.nanoTime();
        CompletableFuture<HealthResult> result = ping.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((pong, error) -> {
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("pingMillis", (System.nanoTime() - started) / 1_000_000);
                    if (error != null) {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        details.put(
                                "error",
                                cause instanceof java.util.concurrent.TimeoutException
                                        ? "no answer to PING within " + TIMEOUT.toMillis() + " ms"
                                        : cause.toString());
                    }
                    return HealthResult.builder("redis", error == null ? HealthStatus.UP : HealthStatus.DOWN)
                            .details(details)
                            .build();
                });
        return Publishers.fromCompletableFuture(result);
    }
}
