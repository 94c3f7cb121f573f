package dev.sluice.limiter;

import dev.sluice.config.Policy;
import dev.sluice.core.PlanQuota;

/**
 * A check by API key: the plan's {@code rate} policy (token bucket) and its {@code daily} and
 * {@code monthly} quota policies (null when the plan has none; their limits are only for headers),
 * for the key's {@code account}, in day {@code dayId} and month {@code monthId} of the plan's zone.
 */
public record PlanCheck(
        Policy rate,
        Policy daily,
        Policy monthly,
        String account,
        long cost,
        String dayId,
        String monthId,
        PlanQuota.Quotas quotas) {}
