package dev.sluice.store;

import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** Each role of the configured store ({@link StoreRoles}) as a bean. */
@Factory
public class StoreRolesFactory {
    @Singleton
    RateLimitStore decisions(StoreRoles store) {
        return store.decisions();
    }

    @Singleton
    PlanStore plans(StoreRoles store) {
        return store.plans();
    }

    @Singleton
    StoreUpkeep upkeep(StoreRoles store) {
        return store.upkeep();
    }
}
