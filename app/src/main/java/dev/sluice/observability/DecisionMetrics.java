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
 * {@code sluice_decisions_total}, {@code sluice_store_latency_seconds_bucket}. The meters of a
 * policy are created once ({@link #forPolicy}), so the request path only increments.
 */
@Singleton
public class DecisionMetrics {
    private final MeterRegistry registry;
    private final ConcurrentMap<String, PolicyMeters> policies = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, StoreMeters> stores = new ConcurrentHashMap<>();

    private final Counter refundsOk;
    private final Counter refundsFailed;

    private final Counter reconciledOk;
    private final Counter reconciledFailed;
    private final Counter reconciledUnits;
    private final java.util.concurrent.atomic.AtomicInteger storeDegraded =
            new java.util.concurrent.atomic.AtomicInteger();

    public DecisionMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.refundsOk = refunds("ok");
        this.refundsFailed = refunds("failed");
        this.reconciledOk = reconciliations("ok");
        this.reconciledFailed = reconciliations("failed");
        this.reconciledUnits = Counter.builder("sluice.reconciled.units")
                .description("Units used under the local failure mode and charged to the store when it answered again")
                .register(registry);
        io.micrometer.core.instrument.Gauge.builder("sluice.store.degraded", storeDegraded, Number::doubleValue)
                .description("1 while the store (any shard of it) fails and its subjects' checks are decided by their"
                        + " on-store-failure modes")
                .register(registry);
    }

    /** {@code sluice_store_failed_shards}: how many shards of the store are failed now. */
    public void watchFailedShards(java.util.function.IntSupplier failed) {
        // a Supplier gauge: Micrometer holds a gauge's state object weakly, and a lambda would be
        // collected (the gauge then reads NaN)
        io.micrometer.core.instrument.Gauge.builder("sluice.store.failed.shards", failed::getAsInt)
                .description("Shards of the store (Redis Cluster masters) whose subjects are decided by their"
                        + " on-store-failure modes now")
                .register(registry);
    }

    private Counter reconciliations(String result) {
        return Counter.builder("sluice.reconciliations")
                .description(
                        "Subjects whose local usage was charged to the store after an outage (failed: kept, retried)")
                .tag("result", result)
                .register(registry);
    }

    private Counter refunds(String result) {
        return Counter.builder("sluice.refunds")
                .description("Units given back because another check of the same request was denied")
                .tag("result", result)
                .register(registry);
    }

    /** The decision counters of one policy. */
    public final class PolicyMeters {
        private final Counter[] counters = new Counter[6];

        private PolicyMeters(String policy) {
            String[] outcomes = {"allowed", "denied", "unavailable"};
            for (int i = 0; i < 6; i++) {
                counters[i] = Counter.builder("sluice.decisions")
                        .description("Rate limit decisions")
                        .tag("policy", policy)
                        .tag("outcome", outcomes[i / 2])
                        .tag("degraded", Boolean.toString(i % 2 == 1))
                        .register(registry);
            }
        }

        public void decision(boolean allowed, boolean unavailable, boolean degraded) {
            int outcome = unavailable ? 2 : allowed ? 0 : 1;
            counters[outcome * 2 + (degraded ? 1 : 0)].increment();
        }
    }

    /** The round-trip timers of one store. */
    public final class StoreMeters {
        private final Timer ok;
        private final Timer error;

        private StoreMeters(String store) {
            ok = timer(store, "ok");
            error = timer(store, "error");
        }

        private Timer timer(String store, String result) {
            return Timer.builder("sluice.store.latency")
                    .description("Time of one store round trip (one script execution)")
                    .tag("store", store)
                    .tag("result", result)
                    .publishPercentileHistogram()
                    .register(registry);
        }

        public void record(boolean succeeded, long nanos) {
            (succeeded ? ok : error).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Counts a refund of a multi-limit check ({@code sluice.refunds}, tag {@code result} = ok |
     * failed): a failed one left units consumed.
     */
    public void refund(boolean succeeded) {
        (succeeded ? refundsOk : refundsFailed).increment();
    }

    /** {@code sluice_local_owed_subjects}: subjects decided locally whose usage the store is not yet charged. */
    public void watchOwed(java.util.function.IntSupplier owed) {
        io.micrometer.core.instrument.Gauge.builder("sluice.local.owed.subjects", owed::getAsInt)
                .description("Subjects decided by the local failure mode whose usage is not yet reconciled into the"
                        + " store")
                .register(registry);
    }

    /**
     * One subject's local usage reconciled into the store: {@code sluice_reconciliations_total{result}}
     * and {@code sluice_reconciled_units_total}.
     */
    public void reconciled(boolean succeeded, long units) {
        (succeeded ? reconciledOk : reconciledFailed).increment();
        reconciledUnits.increment(units);
    }

    private Counter overLimitHits;

    /** {@code sluice_over_limit_cache_hits_total}: checks denied by the over-limit cache, without a store call. */
    public void overLimitHit() {
        Counter c = overLimitHits;
        if (c == null) {
            c = Counter.builder("sluice.over.limit.cache.hits")
                    .description("Checks denied from this node's cache of over-limit subjects, without a store call")
                    .register(registry);
            overLimitHits = c;
        }
        c.increment();
    }

    /** {@code sluice_over_limit_cache_subjects}: subjects this node keeps as over their limit. */
    public void watchOverLimit(java.util.function.LongSupplier size) {
        io.micrometer.core.instrument.Gauge.builder("sluice.over.limit.cache.subjects", size::getAsLong)
                .description("Subjects this node knows to be over their limit until their retry time")
                .register(registry);
    }

    /** What became of consumes answered by the store after their check was decided by its failure mode. */
    public enum LateAnswer {
        /** the store had denied it too: nothing was counted */
        NOTHING_TAKEN,
        /**
         * the call failed after it was sent (Lettuce's own timeout, a lost connection, an error):
         * it may still have run in the store, and then it is counted twice (a stalled Redis runs
         * the commands written before the stall when it resumes)
         */
        UNKNOWN,
        /** counted once: the check was admitted by {@code open}, and the store counted it */
        KEPT,
        /** given back: the check was refused ({@code closed}) or counted locally ({@code local}) */
        REFUNDED,
        /** should have been given back, but the refund failed or has no verb (plan checks): counted twice */
        COUNTED_TWICE
    }

    /**
     * {@code sluice_store_late_answers_total{settled}}: consumes the store answered after the check
     * was decided by its failure mode, and how each was settled ({@link LateAnswer}).
     */
    public void lateAnswer(LateAnswer settled) {
        Counter.builder("sluice.store.late.answers")
                .description("Consumes answered by the store after their check was decided by its failure mode,"
                        + " by how they were settled")
                .tag(
                        "settled",
                        settled.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
                .register(registry)
                .increment();
    }

    /** {@code sluice_store_degraded}: 1 while checks are decided by their failure modes, else 0. */
    public void storeDegraded(boolean degraded) {
        storeDegraded.set(degraded ? 1 : 0);
    }

    public PolicyMeters forPolicy(String policy) {
        return policies.computeIfAbsent(policy, PolicyMeters::new);
    }

    public StoreMeters forStore(String store) {
        return stores.computeIfAbsent(store, StoreMeters::new);
    }
}
