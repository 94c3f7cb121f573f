package dev.sluice.observability;

import dev.sluice.resilience.FailureModes;
import dev.sluice.resilience.Membership;
import dev.sluice.resilience.StoreHealth;
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
 * {@code /health} details {@code storeBreaker}: the breaker's state and rates, whether checks are
 * decided by the store ({@code mode} shared) or by their failure modes (degraded), the live node
 * count the local mode divides by, and the subjects whose local usage is still owed to the store. Always UP: an open
 * breaker means checks are answered by their failure modes without waiting, which is the node
 * working as designed; the {@code redis} indicator says whether Redis itself answers.
 */
@Singleton
public class StoreBreakerHealth implements HealthIndicator {
    private final RateLimitStore store;
    private final StoreHealth health;
    private final FailureModes modes;
    private final Membership membership;

    public StoreBreakerHealth(RateLimitStore store, StoreHealth health, FailureModes modes, Membership membership) {
        this.store = store;
        this.health = health;
        this.modes = modes;
        this.membership = membership;
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
        details.put("mode", health.answers() ? "shared" : "degraded");
        details.put("liveNodes", membership.live());
        details.put("localDivisor", membership.nodes());
        details.put("owedSubjects", modes.owedSubjects());
        return Publishers.just(HealthResult.builder("storeBreaker", HealthStatus.UP)
                .details(details)
                .build());
    }
}
