package dev.sluice.store;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A store's decision verbs guarded by circuit breakers (Resilience4j), one per shard of the store
 * ({@link StoreShards}: for a Redis Cluster, per master): every call's outcome and duration is
 * recorded by the breaker of the shard that serves its subject; while that breaker is open, calls
 * for subjects on that shard fail at once with {@link CallNotPermittedException} instead of waiting
 * for the store, so their failure mode answers without delay — and subjects on the other shards
 * keep being decided by the store. The store's upkeep ({@link StoreUpkeep}) is not guarded: it is
 * not a decision.
 */
public final class BreakerStore implements RateLimitStore, PlanStore {
    private final RateLimitStore decisions;
    private final PlanStore plans;
    private final StoreShards shards;
    private final java.util.function.Function<Object, CircuitBreaker> newBreaker;
    private final java.util.function.BiConsumer<Object, CircuitBreaker> forgotten;
    private final java.util.concurrent.ConcurrentHashMap<Object, Guard> breakers =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.function.LongSupplier nanos;
    private volatile long sweptAt;

    /**
     * A breaker no call has asked for in this many ms is forgotten: after a failover its shard's
     * slots are served by another master, and no call would ever close it again (found black-box:
     * {@code /health} said "open" and the alerting gauge stayed 1 for good after every failover). A
     * shard that serves subjects again gets a new breaker.
     */
    public static final long FORGET_MS = 10_000;

    private static final class Guard {
        final CircuitBreaker breaker;
        volatile long usedAt;

        Guard(CircuitBreaker breaker, long now) {
            this.breaker = breaker;
            this.usedAt = now;
        }
    }

    /** One breaker for the whole store. */
    public <S extends RateLimitStore & PlanStore> BreakerStore(S delegate, CircuitBreaker breaker) {
        this(delegate, StoreShards.ONE, shard -> breaker, (shard, b) -> {});
    }

    /**
     * @param shards which shard serves a subject
     * @param newBreaker the breaker of a shard, made when the shard's first call is guarded
     * @param forgotten told of a breaker forgotten after {@link #FORGET_MS} without a call
     */
    public <S extends RateLimitStore & PlanStore> BreakerStore(
            S delegate,
            StoreShards shards,
            java.util.function.Function<Object, CircuitBreaker> newBreaker,
            java.util.function.BiConsumer<Object, CircuitBreaker> forgotten) {
        this(delegate, shards, newBreaker, forgotten, System::nanoTime);
    }

    <S extends RateLimitStore & PlanStore> BreakerStore(
            S delegate,
            StoreShards shards,
            java.util.function.Function<Object, CircuitBreaker> newBreaker,
            java.util.function.BiConsumer<Object, CircuitBreaker> forgotten,
            java.util.function.LongSupplier nanos) {
        this.decisions = delegate;
        this.plans = delegate;
        this.shards = shards;
        this.newBreaker = newBreaker;
        this.forgotten = forgotten;
        this.nanos = nanos;
        this.sweptAt = nanos.getAsLong();
    }

    /** The breakers of the shards calls have asked for lately, by shard, for metrics and health. */
    public java.util.Map<Object, CircuitBreaker> breakers() {
        forgetUnused(nanos.getAsLong());
        java.util.Map<Object, CircuitBreaker> in = new java.util.HashMap<>();
        breakers.forEach((shard, g) -> in.put(shard, g.breaker));
        return java.util.Map.copyOf(in);
    }

    private CircuitBreaker breaker(Subject subject) {
        Object shard = shards.shardOf(subject);
        long now = nanos.getAsLong();
        Guard g = breakers.get(shard);
        if (g == null) {
            g = breakers.computeIfAbsent(shard, s -> new Guard(newBreaker.apply(s), now));
        }
        g.usedAt = now;
        if (now - sweptAt > 1_000_000_000L) {
            forgetUnused(now);
        }
        return g.breaker;
    }

    /** Forgets the breakers no call has asked for in {@link #FORGET_MS}: run on each heartbeat, traffic or none. */
    public void forgetUnused() {
        forgetUnused(nanos.getAsLong());
    }

    private void forgetUnused(long now) {
        sweptAt = now;
        for (java.util.Map.Entry<Object, Guard> e : breakers.entrySet()) {
            if (now - e.getValue().usedAt > FORGET_MS * 1_000_000L && breakers.remove(e.getKey(), e.getValue())) {
                forgotten.accept(e.getKey(), e.getValue().breaker);
            }
        }
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return guard(subject, () -> decisions.acquire(subject, limit, cost));
    }

    @Override
    public CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId) {
        return guard(subject, () -> decisions.charge(subject, limit, units, chargeId));
    }

    @Override
    public CompletionStage<dev.sluice.core.PlanQuota.Result> acquirePlan(
            Subject subject,
            Limit limit,
            long cost,
            String dayId,
            String monthId,
            dev.sluice.core.PlanQuota.Quotas quotas) {
        return guard(subject, () -> plans.acquirePlan(subject, limit, cost, dayId, monthId, quotas));
    }

    @Override
    public CompletionStage<Void> refund(Subject subject, Limit limit, long units, Decision consumed) {
        return guard(subject, () -> decisions.refund(subject, limit, units, consumed));
    }

    @Override
    public CompletionStage<Boolean> release(Subject subject, String token) {
        return guard(subject, () -> decisions.release(subject, token));
    }

    @Override
    public CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        return guard(subject, () -> plans.resetPlan(subject, dayId, monthId, rate, day, month));
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        return guard(subject, () -> decisions.reset(subject));
    }

    @Override
    public String kind() {
        return decisions.kind();
    }

    private <T> CompletionStage<T> guard(Subject subject, Supplier<CompletionStage<T>> call) {
        CircuitBreaker breaker = breaker(subject);
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
