package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.lua.LuaScript;
import dev.sluice.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * {@code plan.lua} and its twin {@link PlanQuota}, step for step on a real Redis: random plans
 * (bucket, daily and monthly quotas, some absent), random sequences of checks and looks, clock
 * steps and day / month roll-overs (a new day field, or a new month hash, as a new calendar day or
 * month makes); every decision, counter, violation and the bucket's state must be equal, and the
 * quota hash must expire.
 */
class PlanScriptDifferentialIT {
    private static final AtomicLong STEPS = new AtomicLong();
    private static final AtomicLong SEQUENCES = new AtomicLong();
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    /**
     * A clock step, a cost (0: look), whether a new day (1) or a new month (2) begins first, and
     * the ledger's usage for the day (the month's is 3 times it): what a missing counter starts from.
     */
    record Step(long dtMicros, long cost, int rollover, long seed) {}

    record Plan(Limit limit, long daily, long monthly) {}

    @BeforeContainer
    static void connect() {
        client = RedisClient.create(RedisServers.standalone().uri());
        connection = client.connect();
        connection.sync().scriptLoad(LuaScript.PLAN.source());
    }

    @AfterContainer
    static void report() {
        System.out.printf(
                "PlanScriptDifferentialIT: %d sequences, %d steps, 0 mismatches (a mismatch fails the test)%n",
                SEQUENCES.get(), STEPS.get());
        connection.close();
        client.shutdown();
    }

    @Property(tries = 600, seed = "515151")
    void twinAndScriptAgree(
            @ForAll("plans") Plan plan, @ForAll @Size(min = 10, max = 60) List<@From("steps") Step> steps) {
        RedisCommands<String, String> redis = connection.sync();
        long n = SEQUENCES.incrementAndGet();
        String tag = "sl:{rate:diff-" + n + "}";
        int dayNo = 0;
        int monthNo = 0;
        String bucket = null;
        Long day = null;
        Long month = null;
        long now = 1_700_000_000_000_000L;
        Limit limit = plan.limit();
        for (Step step : steps) {
            STEPS.incrementAndGet();
            now += step.dtMicros();
            if (step.rollover() == 2) {
                monthNo++;
                dayNo++;
                month = null;
                day = null;
            } else if (step.rollover() == 1) {
                dayNo++;
                day = null;
            }
            // the month's hash: field "m" the month's counter, a field per day the day's, "tb" the
            // bucket; the previous month's hash, where a month's first checks find the bucket
            String quotaKey = tag + ":q:" + monthNo;
            String previousKey = tag + ":q:" + (monthNo - 1);
            String dayField = "d" + dayNo;
            long cost = Math.min(step.cost(), limit.burst());
            // a missing counter starts from the ledger's seed (some steps have one)
            PlanQuota.Quotas quotas = new PlanQuota.Quotas(
                    plan.daily(), 86_400_000, plan.monthly(), 2_678_400_000L, step.seed(), step.seed() * 3);
            PlanQuota.Result expected = PlanQuota.decide(limit, bucket, day, month, quotas, cost, now);
            @SuppressWarnings("unchecked")
            List<Long> r = (List<Long>) (List<?>) redis.evalsha(
                    LuaScript.PLAN.sha1(),
                    ScriptOutputType.MULTI,
                    new String[] {quotaKey, previousKey},
                    Long.toString(limit.burst()),
                    Long.toString(limit.limit()),
                    Long.toString(limit.periodMicros()),
                    Long.toString(cost),
                    Long.toString(now),
                    "",
                    Long.toString(plan.daily()),
                    "86400000",
                    Long.toString(plan.monthly()),
                    "2678400000",
                    Long.toString(step.seed()),
                    Long.toString(step.seed() * 3),
                    dayField);
            String where = String.format("step %d of %s at %d, cost %d", STEPS.get(), plan, now, cost);
            Decision actual = new Decision(r.get(0) == 1L, limit.burst(), r.get(1), r.get(2), r.get(3), r.get(4));
            assertThat(actual).as(where).isEqualTo(expected.bucket());
            assertThat(r.get(5)).as(where + ": day").isEqualTo(expected.dayUsed());
            assertThat(r.get(6)).as(where + ": month").isEqualTo(expected.monthUsed());
            assertThat(PlanQuota.Violation.of(r.get(7)))
                    .as(where + ": violated")
                    .isEqualTo(expected.violated());
            if (expected.bucketWrite() != null) {
                bucket = expected.bucketWrite();
            }
            if (plan.daily() > 0 && (day != null || expected.daySeeded() || expected.countersWritten())) {
                day = expected.dayUsed();
            }
            if (plan.monthly() > 0 && (month != null || expected.monthSeeded() || expected.countersWritten())) {
                month = expected.monthUsed();
            }
            // the bucket's state as Redis holds it: in this month's hash once a check of the month
            // took from it or found it still in debt in the month before's (a full bucket may stay
            // behind: it decides as a missing one)
            String stored = redis.hget(quotaKey, "tb");
            if (stored != null) {
                assertThat(stored).as(where + ": bucket state").isEqualTo(bucket);
            }
            assertThat(redis.hget(quotaKey, dayField))
                    .as(where + ": day counter")
                    .isEqualTo(day == null ? null : day.toString());
            assertThat(redis.hget(quotaKey, "m"))
                    .as(where + ": month counter")
                    .isEqualTo(month == null ? null : month.toString());
            // every counter expires (with its hash, at the end of its month), however it was made
            if (redis.exists(quotaKey) > 0) {
                assertThat(redis.pttl(quotaKey))
                        .as(where + ": the quota hash expires")
                        .isPositive();
            }
        }
    }

    @Provide
    Arbitrary<Plan> plans() {
        Arbitrary<Limit> limits = Combinators.combine(
                        Arbitraries.longs().between(1, 50),
                        Arbitraries.longs().between(1, 50),
                        Arbitraries.of(1_000L, 60_000L, 3_600_000L))
                .as((b, l, p) -> new Limit(b, l, p));
        Arbitrary<Long> dailies = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, 40)));
        Arbitrary<Long> monthlies = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, 120)));
        return Combinators.combine(limits, dailies, monthlies).as(Plan::new);
    }

    @Provide
    Arbitrary<Step> steps() {
        Arbitrary<Long> dts = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, 2_000_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 4_000_000_000L)));
        Arbitrary<Long> costs = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(6, Arbitraries.just(1L)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(2, 20)));
        Arbitrary<Integer> rollovers = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(16, Arbitraries.just(0)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(1)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(2)));
        Arbitrary<Long> seeds = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 30)));
        return Combinators.combine(dts, costs, rollovers, seeds).as(Step::new);
    }
}
