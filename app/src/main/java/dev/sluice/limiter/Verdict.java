package dev.sluice.limiter;

import dev.sluice.config.Policy;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.store.Subject;

/**
 * A decision as the API reports it.
 *
 * @param policy the policy checked
 * @param key the subject key (the caller's, or the one the policy's scope derived)
 * @param tier the caller's tier, or {@code null}
 * @param cost the units the check asked for (0: a look)
 * @param decision the decision; for {@code unavailable} a denial with a retry time
 * @param degraded the shared store was not consulted (fallback, fail-open or fail-closed)
 * @param unavailable the store failed and the policy fails closed: answer 503, not 429
 * @param subject the state the decision drew on (a reserve or the pool, for reserving policies)
 * @param limit the shape that decided
 * @param source where the units were taken: what a refund must give them back to
 * @param refunded the units were given back because another check of the same request was denied
 */
public record Verdict(
        Policy policy,
        String key,
        String tier,
        long cost,
        Decision decision,
        boolean degraded,
        boolean unavailable,
        Subject subject,
        Limit limit,
        Source source,
        boolean refunded) {

    /** Where a decision's units were taken. */
    public enum Source {
        /** The shared store. */
        STORE,
        /** This node's in-process fallback (policy mode {@code local} while the store failed). */
        FALLBACK,
        /** Nowhere (fail-open or fail-closed while the store failed). */
        NONE
    }

    /** The same verdict, its units given back. */
    public Verdict asRefunded() {
        return new Verdict(policy, key, tier, cost, decision, degraded, unavailable, subject, limit, source, true);
    }

    /** Whether this check holds units a refund could give back. */
    public boolean consumed() {
        return decision.allowed() && cost > 0 && source != Source.NONE && !refunded;
    }
}
