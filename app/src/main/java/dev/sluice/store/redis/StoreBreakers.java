package dev.sluice.store.redis;

import dev.sluice.config.BreakerProperties;
import dev.sluice.store.BreakerStore;
import dev.sluice.store.StoreRoles;
import dev.sluice.store.StoreShards;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a circuit breaker in front of a Redis store ({@code limiter.breaker.*}), with its meters
 * ({@code sluice_store_breaker_state} 0 closed / 1 open / 2 half-open, {@code
 * sluice_store_breaker_transitions_total{to}}) and one log line per state change.
 */
final class StoreBreakers {
    private static final Logger LOG = LoggerFactory.getLogger(StoreBreakers.class);

    private StoreBreakers() {}

    /** The store's roles, its decisions and plans behind a breaker per shard (none when {@code limiter.breaker.enabled} is false). */
    static StoreRoles guard(RedisScriptStore store, BreakerProperties p, MeterRegistry meters) {
        return guard(store, p, meters, StoreShards.ONE);
    }

    /**
     * As {@link #guard(RedisScriptStore, BreakerProperties, MeterRegistry)}, a breaker for each shard
     * of the store ({@code shards}): a shard that fails opens its own breaker only. Meters: {@code
     * sluice_store_breaker_state{store, shard}}, and the rejected calls and transitions summed over
     * the shards ({@code {store}}, {@code {store, to}}); one log line per transition, naming the
     * shard.
     */
    static StoreRoles guard(RedisScriptStore store, BreakerProperties p, MeterRegistry meters, StoreShards shards) {
        if (!p.isEnabled()) {
            return StoreRoles.of(store);
        }
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                .slidingWindowSize((int) Math.max(1, p.getWindow().toSeconds()))
                .minimumNumberOfCalls(p.getMinimumCalls())
                .failureRateThreshold(p.getFailureRateThreshold())
                .slowCallDurationThreshold(p.getSlowCallDuration())
                .slowCallRateThreshold(p.getSlowCallRateThreshold())
                .waitDurationInOpenState(p.getOpenDuration())
                .permittedNumberOfCallsInHalfOpenState(p.getHalfOpenCalls())
                .maxWaitDurationInHalfOpenState(Duration.ZERO)
                .recordExceptions(Throwable.class)
                .build();
        Counter rejected = Counter.builder("sluice.store.breaker.rejected")
                .description(
                        "Store calls not made because the breaker of their shard was open: checks that did not wait for"
                                + " the store")
                .tag("store", store.kind())
                .register(meters);
        java.util.Map<CircuitBreaker, Gauge> gauges = new java.util.concurrent.ConcurrentHashMap<>();
        BreakerStore guarded = new BreakerStore(
                store,
                shards,
                shard -> {
                    CircuitBreaker breaker = CircuitBreaker.of("store-" + store.kind() + "-" + shard, config);
                    gauges.put(breaker, watch(breaker, store.kind(), String.valueOf(shard), p, meters, rejected));
                    return breaker;
                },
                (shard, breaker) -> {
                    Gauge gauge = gauges.remove(breaker);
                    if (gauge != null) {
                        meters.remove(gauge);
                    }
                    if (breaker.getState() != CircuitBreaker.State.CLOSED) {
                        LOG.info(
                                "Store breaker {} shard {} forgotten ({}): no call has asked for it in {} s (failed over,"
                                        + " its slots served elsewhere, or no traffic for it)",
                                store.kind(),
                                shard,
                                breaker.getState().name().toLowerCase(java.util.Locale.ROOT),
                                BreakerStore.FORGET_MS / 1000);
                    }
                });
        return new StoreRoles(guarded, guarded, store);
    }

    private static Gauge watch(
            CircuitBreaker breaker,
            String kind,
            String shard,
            BreakerProperties p,
            MeterRegistry meters,
            Counter rejected) {
        Gauge gauge = Gauge.builder("sluice.store.breaker.state", breaker, b -> switch (b.getState()) {
                    case CLOSED -> 0;
                    case OPEN, FORCED_OPEN -> 1;
                    case HALF_OPEN -> 2;
                    default -> 3;
                })
                .description(
                        "The circuit breaker of a shard of the store: 0 closed, 1 open (its checks skip the store),"
                                + " 2 half-open")
                .tag("store", kind)
                .tag("shard", shard)
                .register(meters);
        breaker.getEventPublisher().onCallNotPermitted(event -> rejected.increment());
        // one line when the shard's breaker opens and one when it closes again; the half-open
        // probes and re-openings in between (every open-duration while the shard is down) are
        // counted into the closing line, and logged at debug
        java.util.concurrent.atomic.AtomicInteger reopened = new java.util.concurrent.atomic.AtomicInteger();
        breaker.getEventPublisher().onStateTransition(event -> {
            Counter.builder("sluice.store.breaker.transitions")
                    .tag("store", kind)
                    .tag("to", event.getStateTransition().getToState().name().toLowerCase(java.util.Locale.ROOT))
                    .register(meters)
                    .increment();
            CircuitBreaker.Metrics m = breaker.getMetrics();
            CircuitBreaker.State from = event.getStateTransition().getFromState();
            switch (event.getStateTransition().getToState()) {
                case OPEN -> {
                    if (from == CircuitBreaker.State.HALF_OPEN) {
                        reopened.incrementAndGet();
                        LOG.debug("Store breaker {} shard {} opened again: the probes failed", kind, shard);
                    } else {
                        LOG.warn(
                                "Store breaker {} shard {} opened (failure rate {} %, slow-call rate {} % over {}"
                                        + " calls): its checks skip the store for {} ms at a time, probing between",
                                kind,
                                shard,
                                m.getFailureRate(),
                                m.getSlowCallRate(),
                                m.getNumberOfBufferedCalls(),
                                p.getOpenDuration().toMillis());
                    }
                }
                case HALF_OPEN -> LOG.debug("Store breaker {} shard {} half-open: probing the store", kind, shard);
                case CLOSED ->
                    LOG.info(
                            "Store breaker {} shard {} closed: the store decides again (after {} failed probe rounds)",
                            kind,
                            shard,
                            reopened.getAndSet(0));
                default -> LOG.info("Store breaker {} shard {}: {}", kind, shard, event.getStateTransition());
            }
        });
        return gauge;
    }
}
