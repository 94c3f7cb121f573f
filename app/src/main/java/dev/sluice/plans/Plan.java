package dev.sluice.plans;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;
import java.time.Instant;

/**
 * A plan: the rate policy of every key on it (token bucket: {@code rateLimit} per {@code
 * ratePeriodMs}, bursts of {@code rateBurst}), its daily and monthly quotas (null: none), its
 * priority tier and the time zone its days and months are counted in.
 */
@MappedEntity("plans")
public record Plan(
        @Id String name,
        long rateLimit,
        long ratePeriodMs,
        long rateBurst,
        @Nullable Long dailyQuota,
        @Nullable Long monthlyQuota,
        String tier,
        String quotaZone,
        Instant createdAt,
        Instant updatedAt) {}
