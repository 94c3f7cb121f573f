package dev.sluice.limiter;

import dev.sluice.config.Policy;
import dev.sluice.core.Decision;
import dev.sluice.observability.DecisionMetrics;
import dev.sluice.store.InProcessStore;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.Subject;
import jakarta.inject.Singleton;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a decision for a checked request: asks the store, and when the store fails applies the
 * policy's {@code on-store-failure} mode. Records every decision and store round trip. The store's
 * failure and recovery are logged once per change, never once per request.
 */
@Singleton
public class Limiter {
    private static final Logger LOG = LoggerFactory.getLogger(Limiter.class);

    private final RateLimitStore store;
    private final InProcessStore fallback = new InProcessStore();
    private final DecisionMetrics metrics;
    private final DecisionMetrics.StoreMeters storeMeters;
    private final AtomicBoolean storeHealthy = new AtomicBoolean(true);

    public Limiter(RateLimitStore store, DecisionMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
        this.storeMeters = metrics.forStore(store.kind());
    }

    /** Consumes {@code cost} units (0: look only) of {@code key}'s allowance under {@code policy}. */
    public CompletionStage<Verdict> check(Policy policy, String key, long cost) {
        Subject subject = new Subject(policy.name(), key);
        DecisionMetrics.PolicyMeters meters = metrics.forPolicy(policy.name());
        long start = System.nanoTime();
        CompletionStage<Decision> decided;
        try {
            decided = store.acquire(subject, policy.limit(), cost);
        } catch (RuntimeException e) {
            decided = CompletableFuture.failedFuture(e);
        }
        return decided.thenApply(decision -> {
                    storeMeters.record(true, System.nanoTime() - start);
                    markStore(true, null);
                    meters.decision(decision.allowed(), false, false);
                    return new Verdict(policy, key, decision, false, false);
                })
                .exceptionallyCompose(error -> {
                    storeMeters.record(false, System.nanoTime() - start);
                    markStore(false, error);
                    return degrade(policy, subject, key, cost).thenApply(verdict -> {
                        meters.decision(verdict.decision().allowed(), verdict.unavailable(), true);
                        return verdict;
                    });
                });
    }

    /** Restores the subject's full allowance in the store (and in the fallback). */
    public CompletionStage<Void> reset(Policy policy, String key) {
        Subject subject = new Subject(policy.name(), key);
        fallback.reset(subject);
        return store.reset(subject);
    }

    private CompletionStage<Verdict> degrade(Policy policy, Subject subject, String key, long cost) {
        long now = InProcessStore.systemMicros();
        long burst = policy.limit().burst();
        return switch (policy.onStoreFailure()) {
            case OPEN ->
                CompletableFuture.completedFuture(
                        new Verdict(policy, key, new Decision(true, burst, burst, 0, 0, now), true, false));
            case CLOSED ->
                CompletableFuture.completedFuture(
                        new Verdict(policy, key, new Decision(false, burst, 0, 0, 1000, now), true, true));
            case LOCAL ->
                fallback.acquire(subject, policy.limit(), cost)
                        .thenApply(decision -> new Verdict(policy, key, decision, true, false));
        };
    }

    private void markStore(boolean healthy, Throwable error) {
        if (storeHealthy.compareAndSet(!healthy, healthy)) {
            if (healthy) {
                LOG.info("Store {} answers again: decisions are shared again", store.kind());
            } else {
                LOG.warn(
                        "Store {} failed ({}): policies now decide by their on-store-failure mode",
                        store.kind(),
                        error.toString());
            }
        }
    }
}
