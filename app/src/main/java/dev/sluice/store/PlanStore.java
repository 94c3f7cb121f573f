package dev.sluice.store;

import dev.sluice.core.Limit;
import dev.sluice.core.PlanQuota;
import java.util.concurrent.CompletionStage;

/** Where plans' rate buckets and quota counters live: the checks and resets by API key. */
public interface PlanStore {
    /**
     * A plan check ({@code plan.lua}, twin {@link dev.sluice.core.PlanQuota}): the subject's token
     * bucket and its counters of day {@code dayId} and month {@code monthId} ({@code yyyy-MM}, as
     * {@link java.time.YearMonth#toString}: a month's first checks find the bucket under the month
     * before), decided and taken together, atomically; nothing is taken unless all pass.
     */
    CompletionStage<PlanQuota.Result> acquirePlan(
            Subject subject, Limit limit, long cost, String dayId, String monthId, PlanQuota.Quotas quotas);

    /**
     * Resets a plan subject ({@code plan_reset.lua}): forgets its bucket (full again; {@code rate}) and sets its
     * counters of day {@code dayId} ({@code day}) and month {@code monthId} ({@code month}) to 0,
     * keeping their expiry; a missing counter stays missing. Atomic. Completes with what the two
     * counters held before, {@code -1} for one that was missing or not reset.
     */
    CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month);
}
