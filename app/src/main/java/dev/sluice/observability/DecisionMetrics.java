package dev.sluice.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Sluice's meters: {@code sluice.decisions} (counter; tags {@code policy}, {@code outcome} =
 * allowed | denied | unavailable, {@code degraded}) and {@code sluice.store.latency} (timer with a
 * percentile histogram; tags {@code store}, {@code result} = ok | error). Prometheus names:
 * {@code sluice_decisions_total}, {@code sluice_store_latency_seconds_bucket}.
 */
@Singleton
public class DecisionMetrics {
    private final MeterRegistry registry;
    private final ConcurrentMap<String, Counter> decisions = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Timer> latency = new ConcurrentHashMap<>();

    public DecisionMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void decision(String policy, String outcome, boolean degraded) {
        String id = policy + '\u0000' + outcome + '\u0000' + degraded;
        decisions
                .computeIfAbsent(id, k -> Counter.builder("sluice.decisions")
                        .description("Rate limit decisions")
                        .tag("policy", policy)
                        .tag("outcome", outcome)
                        .tag("degraded", Boolean.toString(degraded))
                        .register(registry))
                .increment();
    }

    public void storeLatency(String store, boolean ok, long nanos) {
        String result = ok ? "ok" : "error";
        latency.computeIfAbsent(store + '\u0000' + result, k -> Timer.builder("sluice.store.latency")
                        .description("Time of one store round trip (one script execution)")
                        .tag("store", store)
                        .tag("result", result)
                        .publishPercentileHistogram()
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
