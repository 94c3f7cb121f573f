package dev.sluice.store;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A store guarded by a circuit breaker (Resilience4j): every call's outcome and duration is
 * recorded; while the breaker is open, calls fail at once with {@link CallNotPermittedException}
 * instead of waiting for the store, so the limiter's failure mode answers without delay.
 */
public final class BreakerStore implements RateLimitStore {
    private final RateLimitStore delegate;
    private final CircuitBreaker breaker;

    public BreakerStore(RateLimitStore delegate, CircuitBreaker breaker) {
        this.delegate = delegate;
        this.breaker = breaker;
    }

    /** The breaker, for metrics and health. */
    public CircuitBreaker breaker() {
        return breaker;
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return guard(() -> delegate.acquire(subject, limit, cost));
    }

    @Override
    public CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId) {
        return guard(() -> delegate.charge(subject, limit, units, chargeId));
    }

    @Override
    public CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros) {
        return guard(() -> delegate.acquireAt(subject, limit, cost, nowMicros));
    }

    @Override
    public CompletionStage<dev.sluice.core.PlanQuota.Result> acquirePlan(
            Subject subject,
            Limit limit,
            long cost,
            String dayId,
            String monthId,
            dev.sluice.core.PlanQuota.Quotas quotas) {
        return guard(() -> delegate.acquirePlan(subject, limit, cost, dayId, monthId, quotas));
    }

    @Override
    public CompletionStage<Void> refund(Subject subject, Limit limit, long units, Decision consumed) {
        return guard(() -> delegate.refund(subject, limit, units, consumed));
    }

    @Override
    public CompletionStage<Boolean> release(Subject subject, String token) {
        return guard(() -> delegate.release(subject, token));
    }

    @Override
    public CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        return guard(() -> delegate.resetPlan(subject, dayId, monthId, rate, day, month));
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        return guard(() -> delegate.reset(subject));
    }

    /** Not guarded: warming up is not a decision. */
    @Override
    public CompletionStage<Void> warmUp() {
        return delegate.warmUp();
    }

    /** Not guarded: a heartbeat is not a decision, and its outcome must not move the breaker. */
    @Override
    public CompletionStage<Long> heartbeat(String node, long ttlMs, boolean leaving) {
        return delegate.heartbeat(node, ttlMs, leaving);
    }

    @Override
    public String kind() {
        return delegate.kind();
    }

    private <T> CompletionStage<T> guard(Supplier<CompletionStage<T>> call) {
        if (!breaker.tryAcquirePermission()) {
            return CompletableFuture.failedFuture(CallNotPermittedException.createCallNotPermittedException(breaker));
        }
        long start = breaker.getCurrentTimestamp();
        CompletionStage<T> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            breaker.onError(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit(), e);
            return CompletableFuture.failedFuture(e);
        }
        return stage.whenComplete((result, error) -> {
            long took = breaker.getCurrentTimestamp() - start;
            if (error == null) {
                breaker.onSuccess(took, breaker.getTimestampUnit());
            } else {
                breaker.onError(took, breaker.getTimestampUnit(), error);
            }
        });
    }
}
