package dev.sluice.store;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A store's decision verbs guarded by a circuit breaker (Resilience4j): every call's outcome and
 * duration is recorded; while the breaker is open, calls fail at once with {@link CallNotPermittedException}
 * instead of waiting for the store, so the limiter's failure mode answers without delay. The
 * store's upkeep ({@link StoreUpkeep}) is not guarded: it is not a decision.
 */
public final class BreakerStore implements RateLimitStore, PlanStore {
    private final RateLimitStore decisions;
    private final PlanStore plans;
    private final CircuitBreaker breaker;

    public <S extends RateLimitStore & PlanStore> BreakerStore(S delegate, CircuitBreaker breaker) {
        this.decisions = delegate;
        this.plans = delegate;
        this.breaker = breaker;
    }

    /** The breaker, for metrics and health. */
    public CircuitBreaker breaker() {
        return breaker;
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return guard(() -> decisions.acquire(subject, limit, cost));
    }

    @Override
    public CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId) {
        return guard(() -> decisions.charge(subject, limit, units, chargeId));
    }

    @Override
    public CompletionStage<dev.sluice.core.PlanQuota.Result> acquirePlan(
            Subject subject,
            Limit limit,
            long cost,
            String dayId,
            String monthId,
            dev.sluice.core.PlanQuota.Quotas quotas) {
        return guard(() -> plans.acquirePlan(subject, limit, cost, dayId, monthId, quotas));
    }

    @Override
    public CompletionStage<Void> refund(Subject subject, Limit limit, long units, Decision consumed) {
        return guard(() -> decisions.refund(subject, limit, units, consumed));
    }

    @Override
    public CompletionStage<Boolean> release(Subject subject, String token) {
        return guard(() -> decisions.release(subject, token));
    }

    @Override
    public CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        return guard(() -> plans.resetPlan(subject, dayId, monthId, rate, day, month));
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        return guard(() -> decisions.reset(subject));
    }

    @Override
    public String kind() {
        return decisions.kind();
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
