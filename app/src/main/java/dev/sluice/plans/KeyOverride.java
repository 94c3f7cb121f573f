package dev.sluice.plans;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.data.annotation.GeneratedValue;
import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;
import java.time.Instant;

/**
 * A temporary change to one key until {@code until}: its rate limit and burst, its daily and
 * monthly quotas (null: the plan's), or a block. The newest override in force wins.
 */
@MappedEntity("overrides")
public record KeyOverride(
        @Id @GeneratedValue @Nullable Long id,
        String keyId,
        @Nullable Long rateLimit,
        @Nullable Long rateBurst,
        @Nullable Long dailyQuota,
        @Nullable Long monthlyQuota,
        boolean blocked,
        Instant until,
        @Nullable String reason,
        Instant createdAt) {

    public boolean inForce(Instant now) {
        return now.isBefore(until);
    }
}
