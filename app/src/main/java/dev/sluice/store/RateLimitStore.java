package dev.sluice.store;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import java.util.concurrent.CompletionStage;

/**
 * Where token buckets live. Each call is one atomic read-decide-update of one subject: concurrent
 * calls for the same subject never admit more than the bucket holds, whatever the number of service
 * nodes sharing the store. Calls never block the caller's thread; a failure of the store completes
 * the stage exceptionally and consumes nothing that is not reported.
 */
public interface RateLimitStore {

    /**
     * Takes {@code cost} units from the subject's bucket if they are there, timed by the store's own
     * clock. A {@code cost} of 0 only looks: it tells whether one unit is there and writes nothing.
     */
    CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost);

    /**
     * As {@link #acquire} with {@code units > 0}, counted at most once per {@code chargeId}: an
     * attempt whose charge was already admitted (a retry after a time-out whose first attempt did
     * run in the store) only looks, as a cost of 0. A denied charge marks nothing, so what is left
     * may be charged under another id. The id is remembered for {@link #CHARGE_MARKER_TTL_MS}. For
     * the reconciliation of usage decided in-process while the store was unreachable.
     */
    CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId);

    /** How long a store remembers a {@link #charge}'s id: ten minutes. */
    long CHARGE_MARKER_TTL_MS = 600_000;

    /**
     * As {@link #acquire}, at the explicit time {@code nowMicros} (epoch microseconds) instead of the
     * store's clock: for tests and the simulator, so that runs are deterministic.
     */
    CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros);

    /**
     * Gives back {@code units} of what the admitted check {@code consumed} took from the subject
     * (see {@link Limit#refund}): the compensation of a multi-limit check that another limit denied.
     * Sent at most once per consumption; a refund that fails leaves the units consumed.
     */
    CompletionStage<Void> refund(Subject subject, Limit limit, long units, Decision consumed);

    /**
     * Releases the {@code concurrency} lease {@code token} of the subject; completes with whether
     * there was such a lease (false: already released, or expired and trimmed).
     */
    CompletionStage<Boolean> release(Subject subject, String token);

    /**
     * A plan check ({@code plan.lua}, twin {@link dev.sluice.core.PlanQuota}): the subject's token
     * bucket and its counters of day {@code dayId} and month {@code monthId} ({@code yyyy-MM}, as
     * {@link java.time.YearMonth#toString}: a month's first checks find the bucket under the month
     * before), decided and taken together, atomically; nothing is taken unless all pass.
     */
    CompletionStage<dev.sluice.core.PlanQuota.Result> acquirePlan(
            Subject subject,
            Limit limit,
            long cost,
            String dayId,
            String monthId,
            dev.sluice.core.PlanQuota.Quotas quotas);

    /**
     * Resets a plan subject ({@code plan_reset.lua}): forgets its bucket (full again; {@code rate}) and sets its
     * counters of day {@code dayId} ({@code day}) and month {@code monthId} ({@code month}) to 0,
     * keeping their expiry; a missing counter stays missing. Atomic. Completes with what the two
     * counters held before, {@code -1} for one that was missing or not reset.
     */
    CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month);

    /** Forgets the subject's state, which restores its full allowance. */
    CompletionStage<Void> reset(Subject subject);

    /**
     * Records that service node {@code node} is alive (or, {@code leaving}, that it stops) and
     * answers how many nodes share this store: those heard from within {@code ttlMs}. The
     * {@code local} failure mode divides limits by this count. A store of one node answers 1.
     */
    default CompletionStage<Long> heartbeat(String node, long ttlMs, boolean leaving) {
        return java.util.concurrent.CompletableFuture.completedFuture(1L);
    }

    /**
     * Prepares for the first checks before the node takes traffic, so that they meet the time budget:
     * connects, has the store cache the scripts, and runs the decision path a few times (looks
     * only, which write nothing). Completes when done; a failure is not fatal.
     */
    default CompletionStage<Void> warmUp() {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    /** A short name for logs and metrics: {@code in-process}, {@code redis}, {@code redis-cluster}. */
    String kind();
}
