package dev.sluice.store.redis;

import dev.sluice.config.BreakerProperties;
import dev.sluice.store.BreakerStore;
import dev.sluice.store.StoreRoles;
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

    /** The store's roles, its decisions and plans behind a breaker (none when {@code limiter.breaker.enabled} is false). */
    static StoreRoles guard(RedisScriptStore store, BreakerProperties p, MeterRegistry meters) {
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
        CircuitBreaker breaker = CircuitBreaker.of("store-" + store.kind(), config);
        Gauge.builder("sluice.store.breaker.state", breaker, b -> switch (b.getState()) {
                    case CLOSED -> 0;
                    case OPEN, FORCED_OPEN -> 1;
                    case HALF_OPEN -> 2;
                    default -> 3;
                })
                .description("The store's circuit breaker: 0 closed, 1 open (checks skip the store), 2 half-open")
                .tag("store", store.kind())
                .register(meters);
        Counter rejected = Counter.builder("sluice.store.breaker.rejected")
                .description(
                        "Store calls not made because the breaker was open: checks that did not wait for the store")
                .tag("store", store.kind())
                .register(meters);
        breaker.getEventPublisher().onCallNotPermitted(event -> rejected.increment());
        breaker.getEventPublisher().onStateTransition(event -> {
            Counter.builder("sluice.store.breaker.transitions")
                    .tag("store", store.kind())
                    .tag("to", event.getStateTransition().getToState().name().toLowerCase(java.util.Locale.ROOT))
                    .register(meters)
                    .increment();
            CircuitBreaker.Metrics m = breaker.getMetrics();
            switch (event.getStateTransition().getToState()) {
                case OPEN ->
                    LOG.warn(
                            "Store breaker {} opened (failure rate {} %, slow-call rate {} % over {} calls):"
                                    + " checks skip the store for {} ms, then probe",
                            store.kind(),
                            m.getFailureRate(),
                            m.getSlowCallRate(),
                            m.getNumberOfBufferedCalls(),
                            p.getOpenDuration().toMillis());
                case HALF_OPEN -> LOG.info("Store breaker {} half-open: probing the store", store.kind());
                case CLOSED -> LOG.info("Store breaker {} closed: the store decides again", store.kind());
                default -> LOG.info("Store breaker {}: {}", store.kind(), event.getStateTransition());
            }
        });
        BreakerStore guarded = new BreakerStore(store, breaker);
        return new StoreRoles(guarded, guarded, store);
    }
}
