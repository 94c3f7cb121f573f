package dev.sluice.store;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import java.util.concurrent.CompletionStage;

/**
 * Where the limits' state lives, as the decision path uses it: take, charge, give back, release,
 * forget. Each call is one atomic read-decide-update of one subject: concurrent calls for the same
 * subject never admit more than the bucket holds, whatever the number of service nodes sharing the
 * store. Calls never block the caller's thread; a failure of the store completes the stage
 * exceptionally and consumes nothing that is not reported.
 *
 * <p>The store's other verbs are ports of their own, each for the callers that need it: {@link
 * PlanStore} (plan checks and resets), {@link StoreUpkeep} (warm-up and heartbeats, never guarded
 * by the breaker) and {@link ClockedStore} (a consume at a given time, for tests and the
 * simulator). {@link StoreRoles} is the one store chosen by configuration, by role.
 */
public interface RateLimitStore {

    /**
     * Takes {@code cost} units from the subject's bucket if they are there, timed by the store's own
     * clock. A {@code cost} of 0 only looks: it tells whether one unit is there and writes nothing.
     */
    CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost);

    /**
     * Takes {@code units > 0} that were admitted already — the reconciliation of usage decided
     * in-process while the store was unreachable — whole, even beyond what is left: an overdraft of
     * up to one burst (limit) that the subject's next checks wait out. Counted at most once per
     * {@code chargeId}: an attempt whose charge was already taken (a retry after a time-out whose
     * first attempt did run in the store) only looks, as a cost of 0. The id is remembered for
     * {@link #CHARGE_MARKER_TTL_MS}.
     */
    CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId);

    /** How long a store remembers a {@link #charge}'s id: ten minutes. */
    long CHARGE_MARKER_TTL_MS = 600_000;

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

    /** Forgets the subject's state, which restores its full allowance. */
    CompletionStage<Void> reset(Subject subject);

    /** A short name for logs and metrics: {@code in-process}, {@code redis}, {@code redis-cluster}. */
    String kind();
}
