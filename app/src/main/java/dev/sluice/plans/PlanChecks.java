package dev.sluice.plans;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.config.FailureMode;
import dev.sluice.config.PlansProperties;
import dev.sluice.config.Policy;
import dev.sluice.config.Scope;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.core.PlanQuota;
import dev.sluice.limiter.PlanCheck;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Turns a resolved key into a {@link PlanCheck}: the plan's {@code rate} policy (token bucket) and
 * its {@code daily} / {@code monthly} quota policies, for the current day and month in the plan's
 * time zone, with the time left in each (the quota counters' TTL, and a violation's Retry-After).
 */
@Singleton
@Requires(beans = DataSource.class)
public class PlanChecks {
    /** Quota policies carry their real shape in their header; this limit only fills the record. */
    private static final Limit HEADER_ONLY = new Limit(Algorithm.FIXED_WINDOW, 1, 1, 1000);

    private final FailureMode mode;
    private final UsageLedger ledger;
    private final Cache<Plan, Policy> rates =
            Caffeine.newBuilder().maximumSize(10_000).build();

    public PlanChecks(PlansProperties properties, UsageLedger ledger) {
        this.mode = properties.getOnStoreFailure();
        this.ledger = ledger;
    }

    /**
     * Records how a check by API key ended, written behind: what an admitted check used (the
     * durable ledger, degraded admissions too), the per-minute counts, and a denial in the
     * violation log ({@code violated}: the policy that denied it; {@code client}: the caller's
     * address when the service passed it).
     */
    public void settled(
            PlanCheck check, KeyDirectory.Resolution resolved, boolean admitted, String violated, String client) {
        if (admitted) {
            ledger.record(check.account(), "d:" + check.dayId(), "m:" + check.monthId(), check.cost());
        }
        ledger.outcome(resolved.key().id(), check.account(), resolved.plan().name(), admitted, violated, client);
    }

    public PlanCheck of(KeyDirectory.Resolution resolved, long cost, Instant now) {
        Plan p = effective(resolved.plan(), resolved.override());
        Policy rate = rates.get(
                p,
                x -> Policy.of(
                        dev.sluice.limiter.Limiter.PLAN_RATE,
                        new Limit(x.rateBurst(), x.rateLimit(), x.ratePeriodMs()),
                        mode));
        ZoneId zone = ZoneId.of(p.quotaZone());
        LocalDate day = now.atZone(zone).toLocalDate();
        YearMonth month = YearMonth.from(day);
        Instant dayStart = day.atStartOfDay(zone).toInstant();
        Instant dayEnd = day.plusDays(1).atStartOfDay(zone).toInstant();
        Instant monthStart = month.atDay(1).atStartOfDay(zone).toInstant();
        Instant monthEnd = month.plusMonths(1).atDay(1).atStartOfDay(zone).toInstant();
        Policy daily = p.dailyQuota() == null
                ? null
                : quota(
                        "daily",
                        p.dailyQuota(),
                        Duration.between(dayStart, dayEnd).toSeconds());
        Policy monthly = p.monthlyQuota() == null
                ? null
                : quota(
                        "monthly",
                        p.monthlyQuota(),
                        Duration.between(monthStart, monthEnd).toSeconds());
        String account = resolved.key().account();
        PlanQuota.Quotas quotas = new PlanQuota.Quotas(
                p.dailyQuota() == null ? 0 : p.dailyQuota(),
                Math.max(1, Duration.between(now, dayEnd).toMillis()),
                p.monthlyQuota() == null ? 0 : p.monthlyQuota(),
                Math.max(1, Duration.between(now, monthEnd).toMillis()),
                p.dailyQuota() == null ? 0 : ledger.seed(account, "d:" + day),
                p.monthlyQuota() == null ? 0 : ledger.seed(account, "m:" + month));
        return new PlanCheck(rate, daily, monthly, account, cost, day.toString(), month.toString(), quotas);
    }

    /** The plan as an override in force changes it for one key (what the override sets replaces the plan's). */
    public static Plan effective(Plan plan, KeyOverride o) {
        if (o == null) {
            return plan;
        }
        long limit = o.rateLimit() != null ? o.rateLimit() : plan.rateLimit();
        long burst = o.rateBurst() != null
                ? o.rateBurst()
                : o.rateLimit() != null
                        ? Math.max(limit, plan.rateBurst() * limit / plan.rateLimit())
                        : plan.rateBurst();
        return new Plan(
                plan.name(),
                limit,
                plan.ratePeriodMs(),
                burst,
                o.dailyQuota() != null ? o.dailyQuota() : plan.dailyQuota(),
                o.monthlyQuota() != null ? o.monthlyQuota() : plan.monthlyQuota(),
                plan.tier(),
                plan.quotaZone(),
                plan.createdAt(),
                plan.updatedAt());
    }

    private Policy quota(String name, long quota, long windowSeconds) {
        return new Policy(
                name,
                HEADER_ONLY,
                mode,
                windowSeconds,
                "\"" + name + "\";q=" + quota + ";w=" + windowSeconds,
                Scope.KEY,
                64,
                List.of(),
                Map.of(),
                Map.of(),
                Map.of(),
                null,
                "plan");
    }
}
