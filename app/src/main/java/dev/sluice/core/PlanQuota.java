package dev.sluice.core;

/**
 * The Java twin of {@code plan.lua}: a plan's token bucket and its daily and monthly quota
 * counters, decided together; nothing is taken unless everything passes. Quotas count admitted
 * units (a request of cost 3 counts 3), whatever the bucket's burst. Pure: state and time in,
 * decision and writes out.
 */
public final class PlanQuota {
    private PlanQuota() {}

    /** Why a plan check was denied. */
    public enum Violation {
        NONE,
        RATE,
        DAILY,
        MONTHLY;

        /** The number the script answers: 0 none, 1 rate, 2 daily, 3 monthly. */
        public static Violation of(long code) {
            return values()[(int) code];
        }
    }

    /**
     * The plan's quotas for this check: {@code daily}/{@code monthly} 0 for none; the TTLs are the
     * milliseconds until the current day / month (in the plan's zone) ends; the seeds are the
     * usage the durable ledger holds for this day / month, what a missing counter starts from.
     */
    public record Quotas(long daily, long dayTtlMs, long monthly, long monthTtlMs, long daySeed, long monthSeed) {
        public Quotas(long daily, long dayTtlMs, long monthly, long monthTtlMs) {
            this(daily, dayTtlMs, monthly, monthTtlMs, 0, 0);
        }
    }

    /**
     * @param bucket the token bucket's decision (its {@code retryAfterMs} is the quota's when a
     *     quota was violated; {@code allowed} is the whole check's)
     * @param dayUsed the day's counter after the decision
     * @param monthUsed the month's counter after the decision
     * @param bucketWrite what the bucket's state becomes ({@code null}: unchanged), with its TTL
     * @param countersWritten whether the counters were incremented by the cost
     * @param daySeeded whether the day's counter was missing and set from its seed
     * @param monthSeeded whether the month's counter was missing and set from its seed
     */
    public record Result(
            Decision bucket,
            long dayUsed,
            long monthUsed,
            Violation violated,
            String bucketWrite,
            long bucketTtlMs,
            boolean countersWritten,
            boolean daySeeded,
            boolean monthSeeded) {}

    /**
     * @param storedDay the day's counter, {@code null} when missing (then it starts from its seed)
     * @param storedMonth the month's counter, likewise
     */
    public static Result decide(
            Limit limit,
            String storedBucket,
            Long storedDay,
            Long storedMonth,
            Quotas quotas,
            long cost,
            long nowMicros) {
        if (cost < 0) {
            throw new IllegalArgumentException("cost: plan checks are not refunded");
        }
        boolean daySeeded = storedDay == null && quotas.daily() > 0 && quotas.daySeed() > 0;
        boolean monthSeeded = storedMonth == null && quotas.monthly() > 0 && quotas.monthSeed() > 0;
        long day = storedDay != null ? storedDay : daySeeded ? quotas.daySeed() : 0;
        long month = storedMonth != null ? storedMonth : monthSeeded ? quotas.monthSeed() : 0;
        long need = cost == 0 ? 1 : cost;
        Violation violated = Violation.NONE;
        long retry = 0;
        if (quotas.monthly() > 0 && month + need > quotas.monthly()) {
            violated = Violation.MONTHLY;
            retry = quotas.monthTtlMs();
        } else if (quotas.daily() > 0 && day + need > quotas.daily()) {
            violated = Violation.DAILY;
            retry = quotas.dayTtlMs();
        }
        if (violated != Violation.NONE) {
            Decision look =
                    TokenBucket.decide(limit, storedBucket, 0, nowMicros).decision();
            Decision denied = new Decision(false, look.limit(), look.remaining(), look.resetMs(), retry, nowMicros);
            return new Result(denied, day, month, violated, null, -1, false, daySeeded, monthSeeded);
        }
        Outcome rate = TokenBucket.decide(limit, storedBucket, cost, nowMicros);
        if (!rate.decision().allowed()) {
            return new Result(rate.decision(), day, month, Violation.RATE, null, -1, false, daySeeded, monthSeeded);
        }
        boolean count = cost > 0;
        return new Result(
                rate.decision(),
                count && quotas.daily() > 0 ? day + cost : day,
                count && quotas.monthly() > 0 ? month + cost : month,
                Violation.NONE,
                rate.write(),
                rate.ttlMs(),
                count,
                daySeeded,
                monthSeeded);
    }
}
