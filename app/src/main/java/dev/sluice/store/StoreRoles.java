package dev.sluice.store;

/**
 * The one store chosen by configuration (Redis Cluster, standalone Redis or in-process), by role:
 * {@code decisions} and {@code plans} guarded by the circuit breaker when there is one, {@code
 * upkeep} never. Each role is a bean of its own ({@link StoreRolesFactory}), so that every caller
 * depends on the verbs it uses only.
 */
public record StoreRoles(RateLimitStore decisions, PlanStore plans, StoreUpkeep upkeep) {
    /** A store that plays every role itself, unguarded. */
    public static <S extends RateLimitStore & PlanStore & StoreUpkeep> StoreRoles of(S store) {
        return new StoreRoles(store, store, store);
    }
}
