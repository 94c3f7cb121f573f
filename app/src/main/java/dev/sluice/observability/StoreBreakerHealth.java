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
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("store", store.kind());
        // the worst shard's state first (open, half_open, closed), then each shard's
        Map<String, Object> shards = new java.util.TreeMap<>();
        CircuitBreaker.State worst = CircuitBreaker.State.CLOSED;
        for (Map.Entry<Object, CircuitBreaker> e : guarded.breakers().entrySet()) {
            CircuitBreaker b = e.getValue();
            Map<String, Object> shard = new LinkedHashMap<>();
            shard.put("state", b.getState().name().toLowerCase(Locale.ROOT));
            shard.put("failureRate", b.getMetrics().getFailureRate());
            shard.put("bufferedCalls", b.getMetrics().getNumberOfBufferedCalls());
            shard.put("notPermittedCalls", b.getMetrics().getNumberOfNotPermittedCalls());
            shards.put(String.valueOf(e.getKey()), shard);
            if (rank(b.getState()) > rank(worst)) {
                worst = b.getState();
            }
        }
        details.put("state", worst.name().toLowerCase(Locale.ROOT));
        details.put("shards", shards);
        details.put("failedShards", health.failedShards());
        details.put("mode", health.answers() ? "shared" : "degraded");
        details.put("liveNodes", membership.live());
        details.put("localDivisor", membership.nodes());
        details.put("owedSubjects", modes.owedSubjects());
        return Publishers.just(HealthResult.builder("storeBreaker", HealthStatus.UP)
                .details(details)
                .build());
    }

    private static int rank(CircuitBreaker.State s) {
        return switch (s) {
            case OPEN, FORCED_OPEN -> 2;
            case HALF_OPEN -> 1;
            default -> 0;
        };
    }
}
