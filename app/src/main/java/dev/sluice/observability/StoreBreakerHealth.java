package dev.sluice.observability;

import dev.sluice.store.BreakerStore;
import dev.sluice.store.RateLimitStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.reactivestreams.Publisher;

/**
 * {@code /health} details {@code storeBreaker}: the breaker's state and rates. Always UP: an open
 * breaker means checks are answered by their failure modes without waiting, which is the node
 * working as designed; the {@code redis} indicator says whether Redis itself answers.
 */
@Singleton
public class StoreBreakerHealth implements HealthIndicator {
    private final RateLimitStore store;

    public StoreBreakerHealth(RateLimitStore store) {
        this.store = store;
    }

    @Override
    public Publisher<HealthResult> getResult() {
        if (!(store instanceof BreakerStore guarded)) {
            return Publishers.empty();
        }
        CircuitBreaker b = guarded.breaker();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("store", store.kind());
        details.put("state", b.getState().name().toLowerCase(Locale.ROOT));
        details.put("failureRate", b.getMetrics().getFailureRate());
        details.put("slowCallRate", b.getMetrics().getSlowCallRate());
        details.put("bufferedCalls", b.getMetrics().getNumberOfBufferedCalls());
        details.put("notPermittedCalls", b.getMetrics().getNumberOfNotPermittedCalls());
        return Publishers.just(HealthResult.builder("storeBreaker", HealthStatus.UP)
                .details(details)
                .build());
    }
}
