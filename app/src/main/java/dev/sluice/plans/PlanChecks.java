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

    public PlanChecks(PlansProperties properties, UsageLedger ledger) {
        this.mode = properties.getOnStoreFailure();
        this.ledger = ledger;
    }

    /**
     * Records how a check by API key ended, written behind: what an admitted check used (the
     * durable ledger, degraded admissions too), the per-minute counts, and a denial in the
     * violation log ({@code violated}: the policy that denied it, null when admitted; {@code
     * client}: the caller's address when the service passed it).
     */
    public void settled(
            Planned planned, KeyDirectory.Resolution resolved, String violated, String client, Instant now) {
        ledger.checked(
                planned.day(),
                planned.month(),
                planned.check().cost(),
                resolved.key().id(),
                resolved.plan().name(),
                violated,
                client,
                now);
    }

    /**
     * A check by API key ready to run: the {@link PlanCheck}, and the usage ledger's tallies of its
     * day and month, looked up once for both the quota counters' seeds and the recording of what it
     * used ({@link #settled}).
     */
    public record Planned(PlanCheck check, UsageLedger.Tally day, UsageLedger.Tally month) {}

    /**
     * Whether the planned check's quota seeds include the ledger's totals: false for a node's first
     * check of an account's day or month ({@link #learn} reads them; a missing counter must not start
     * from zero on a fresh node).
     */
    public boolean seedsKnown(Planned planned) {
        PlanQuota.Quotas q = planned.check().quotas();
        return (q.daily() <= 0 || ledger.known(planned.day())) && (q.monthly() <= 0 || ledger.known(planned.month()));
    }

    /** Reads the ledger's totals the planned check's quotas start from; plan the check again afterwards. */
    public java.util.concurrent.CompletionStage<Void> learn(Planned planned) {
        PlanQuota.Quotas q = planned.check().quotas();
        return ledger.learn(q.daily() > 0 ? planned.day() : null, q.monthly() > 0 ? planned.month() : null);
    }

    public Planned of(KeyDirectory.Resolution resolved, long cost, Instant now) {
        Periods t = periods(resolved.plan().quotaZone(), now); // an override never changes the zone
        KeyPlan m = keyPlan(resolved, t);
        Plan p = m.effective();
        Policies policies = m.policies();
        String account = resolved.key().account();
        long nowMs = now.toEpochMilli();
        UsageLedger.Tally day = m.day();
        UsageLedger.Tally month = m.month();
        PlanQuota.Quotas quotas = new PlanQuota.Quotas(
                p.dailyQuota() == null ? 0 : p.dailyQuota(),
                Math.max(1, t.dayEndMs() - nowMs),
                p.monthlyQuota() == null ? 0 : p.monthlyQuota(),
                Math.max(1, t.monthEndMs() - nowMs),
                p.dailyQuota() == null ? 0 : ledger.seed(day),
                p.monthlyQuota() == null ? 0 : ledger.seed(month));
        PlanCheck check = new PlanCheck(
                policies.rate(), policies.daily(), policies.monthly(), account, cost, t.dayId(), t.monthId(), quotas);
        return new Planned(check, day, month);
    }

    /**
     * What a key's checks share while its plan, its override in force and its day stay the same:
     * the effective plan, its policies and the ledger's tallies of the account's day and month. Kept
     * in the key's memo from one check to the next, so that a check finds them there instead of
     * hashing the plan for the policies' cache and looking both tallies up in the ledger; made
     * again when any of the three changes (compared by identity: a directory reload makes new plan
     * and override objects, a new day a new {@link Periods}).
     */
    private record KeyPlan(
            Plan plan,
            KeyOverride override,
            Periods periods,
            Plan effective,
            Policies policies,
            UsageLedger.Tally day,
            UsageLedger.Tally month) {}

    private KeyPlan keyPlan(KeyDirectory.Resolution resolved, Periods t) {
        KeyDirectory.Memo slot = resolved.memo();
        if (slot != null
                && slot.value instanceof KeyPlan kept
                && kept.plan() == resolved.plan()
                && kept.override() == resolved.override()
                && kept.periods() == t) {
            return kept;
        }
        Plan p = effective(resolved.plan(), resolved.override());
        String account = resolved.key().account();
        KeyPlan made = new KeyPlan(
                resolved.plan(),
                resolved.override(),
                t,
                p,
                policies.get(new PoliciesKey(p, t.dayWindowSeconds(), t.monthWindowSeconds()), this::policies),
                ledger.tally(account, t.dayPeriod()),
                ledger.tally(account, t.monthPeriod()));
        if (slot != null) {
            slot.value = made;
        }
        return made;
    }

    /**
     * The day and month of a zone that {@code now} falls in, computed once per zone and day (not per
     * check): the same instance all day, its ids and ledger periods the same String instances, so
     * maps keyed by them hash and compare cheaply and a key's memo can tell its day by identity.
     */
    record Periods(
            String dayId,
            String monthId,
            String dayPeriod,
            String monthPeriod,
            long dayStartMs,
            long dayEndMs,
            long monthEndMs,
            long dayWindowSeconds,
            long monthWindowSeconds) {
        static Periods of(ZoneId zone, Instant now) {
            LocalDate day = now.atZone(zone).toLocalDate();
            YearMonth month = YearMonth.from(day);
            Instant dayStart = day.atStartOfDay(zone).toInstant();
            Instant dayEnd = day.plusDays(1).atStartOfDay(zone).toInstant();
            Instant monthStart = month.atDay(1).atStartOfDay(zone).toInstant();
            Instant monthEnd = month.plusMonths(1).atDay(1).atStartOfDay(zone).toInstant();
            return new Periods(
                    day.toString(),
                    month.toString(),
                    "d:" + day,
                    "m:" + month,
                    dayStart.toEpochMilli(),
                    dayEnd.toEpochMilli(),
                    monthEnd.toEpochMilli(),
                    Duration.between(dayStart, dayEnd).toSeconds(),
                    Duration.between(monthStart, monthEnd).toSeconds());
        }

        boolean contains(long ms) {
            return ms >= dayStartMs && ms < dayEndMs;
        }
    }

    private final java.util.concurrent.ConcurrentHashMap<String, Periods> periods =
            new java.util.concurrent.ConcurrentHashMap<>();

    private Periods periods(String zone, Instant now) {
        Periods t = periods.get(zone);
        if (t == null || !t.contains(now.toEpochMilli())) {
            t = Periods.of(ZoneId.of(zone), now);
            periods.put(zone, t);
        }
        return t;
    }

    private record PoliciesKey(Plan plan, long dayWindowSeconds, long monthWindowSeconds) {}

    private record Policies(Policy rate, Policy daily, Policy monthly) {}

    private final Cache<PoliciesKey, Policies> policies =
            Caffeine.newBuilder().maximumSize(10_000).build();

    private Policies policies(PoliciesKey k) {
        Plan x = k.plan();
        return new Policies(
                Policy.of(
                        dev.sluice.limiter.Limiter.PLAN_RATE,
                        new Limit(x.rateBurst(), x.rateLimit(), x.ratePeriodMs()),
                        mode),
                x.dailyQuota() == null ? null : quota("daily", x.dailyQuota(), k.dayWindowSeconds()),
                x.monthlyQuota() == null ? null : quota("monthly", x.monthlyQuota(), k.monthWindowSeconds()));
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
                "plan",
                false);
    }
}
