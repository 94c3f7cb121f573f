package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.lua.LuaScript;
import dev.sluice.store.redis.RedisScriptStore;
import dev.sluice.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Each algorithm's Java twin and its Lua script, step for step on a real Redis: seeded random
 * sequences of checks, costs (including looks), refunds of the last admitted check (the
 * compensation of multi-limit checks), charges (taken even beyond what is left) and clock steps (including backwards ones) through both; every decision, remaining count, reset, retry time and written state must be equal, and
 * the key's TTL must be the twin's (up to the real time that passes between the script and PTTL).
 * The script, PTTL and PERSIST run in one transaction, and PERSIST stops the key from expiring in
 * real time while the sequence runs on a simulated clock (the twins need no expiry: a
 * state past its time to live decides as a fresh one).
 */
class ScriptDifferentialIT {
    private static final Map<Algorithm, AtomicLong> STEPS = new EnumMap<>(Algorithm.class);
    private static final Map<Algorithm, AtomicLong> SEQUENCES = new EnumMap<>(Algorithm.class);
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    /**
     * A clock step and a check of {@code cost}, a refund of the last admitted check, or a charge of
     * {@code cost} (the reconciliation of local usage: taken even beyond what is left).
     */
    record Step(long dtMicros, long cost, boolean refund, boolean charge) {}

    @BeforeContainer
    static void connect() {
        client = RedisClient.create(RedisServers.standalone().uri());
        connection = client.connect();
        connection.sync().flushall();
        for (Algorithm a : Algorithm.values()) {
            STEPS.put(a, new AtomicLong());
            SEQUENCES.put(a, new AtomicLong());
            connection.sync().scriptLoad(script(a).source());
        }
    }

    @AfterContainer
    static void report() {
        for (Algorithm a : Algorithm.values()) {
            System.out.printf(
                    "ScriptDifferentialIT %s: %d sequences, %d steps, 0 mismatches (a mismatch fails the test)%n",
                    a.value(), SEQUENCES.get(a).get(), STEPS.get(a).get());
        }
        connection.close();
        client.shutdown();
    }

    private static LuaScript script(Algorithm algorithm) {
        return RedisScriptStore.script(algorithm);
    }

    @Property(tries = 800, seed = "424242")
    void tokenBucketTwinAndScriptAgree(
            @ForAll("tokenBuckets") Limit limit, @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        run(limit, steps);
    }

    @Property(tries = 500, seed = "919191")
    void gcraTwinAndScriptAgree(
            @ForAll("tokenBuckets") Limit limit, @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        run(new Limit(Algorithm.GCRA, limit.burst(), limit.limit(), limit.periodMs()), steps);
    }

    @Property(tries = 800, seed = "171717")
    void fixedWindowTwinAndScriptAgree(
            @ForAll("fixedWindows") Limit limit, @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        run(limit, steps);
    }

    @Property(tries = 800, seed = "535353")
    void slidingWindowCounterTwinAndScriptAgree(
            @ForAll("slidingWindows") Limit limit, @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        run(limit, steps);
    }

    @Property(tries = 600, seed = "262626")
    void slidingWindowLogTwinAndScriptAgree(
            @ForAll("slidingLogs") Limit limit, @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        run(limit, steps);
    }

    @Property(tries = 600, seed = "383838")
    void concurrencyTwinAndScriptAgree(
            @ForAll("concurrencyLimits") Limit limit,
            @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        run(limit, steps);
    }

    private static void run(Limit limit, List<Step> steps) {
        RedisCommands<String, String> redis = connection.sync();
        Algorithm algorithm = limit.algorithm();
        String key =
                "sl:{diff:" + algorithm.value() + ":" + SEQUENCES.get(algorithm).incrementAndGet() + "}:x";
        String twin = null;
        long now = 1_700_000_000_000_000L;
        Decision lastAdmitted = null;
        long lastCost = 0;
        int tokens = 0;
        for (Step step : steps) {
            now += step.dtMicros();
            boolean refund = step.refund() && lastAdmitted != null;
            // a charge under a new id each time (a retried one only looks: StoreContract)
            boolean charge = step.charge() && !refund && algorithm != Algorithm.CONCURRENCY;
            long cost = Math.min(step.cost(), limit.burst());
            if (algorithm == Algorithm.CONCURRENCY) {
                cost = Math.min(cost, 1);
            }
            String extra = "";
            Outcome expected;
            if (refund) {
                cost = -lastCost;
                extra = algorithm == Algorithm.CONCURRENCY
                        ? lastAdmitted.lease()
                        : Long.toString(lastAdmitted.nowMicros());
                expected = limit.refund(twin, lastCost, lastAdmitted, now);
                lastAdmitted = null;
            } else if (charge) {
                extra = "charge";
                expected = limit.charge(twin, cost, now);
            } else {
                String token = algorithm == Algorithm.CONCURRENCY ? "t" + tokens++ : null;
                extra = token == null ? "" : token;
                expected = limit.decide(twin, cost, now, token);
            }
            TransactionResult tx;
            redis.multi();
            try {
                redis.evalsha(
                        script(algorithm).sha1(),
                        ScriptOutputType.MULTI,
                        charge
                                ? new String[] {
                                    key, key + ":once:" + STEPS.get(algorithm).get()
                                }
                                : new String[] {key},
                        Long.toString(limit.burst()),
                        Long.toString(limit.limit()),
                        Long.toString(limit.periodMicros()),
                        Long.toString(cost),
                        Long.toString(now),
                        extra,
                        "600000");
                redis.pttl(key);
                redis.persist(key);
                tx = redis.exec();
            } catch (RuntimeException e) {
                discardQuietly(redis);
                throw e;
            }
            assertThat(tx.wasDiscarded()).as("transaction ran").isFalse();
            Object reply = tx.get(0);
            if (reply instanceof Exception e) {
                throw new AssertionError(
                        "the script failed at step " + STEPS.get(algorithm).get() + " of " + limit + " at " + now
                                + ", cost " + cost + ": " + e.getMessage(),
                        e);
            }
            @SuppressWarnings("unchecked")
            List<Long> r = (List<Long>) reply;
            long pttl = tx.get(1);
            String where = String.format(
                    "step %d of %s at %d, cost %d%s",
                    STEPS.get(algorithm).get(), limit, now, cost, refund ? " (refund)" : charge ? " (charge)" : "");
            if (!refund) {
                boolean admitted = r.get(0) == 1L;
                Decision actual = new Decision(
                        admitted,
                        limit.burst(),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        admitted && cost > 0 && algorithm == Algorithm.CONCURRENCY ? extra : null);
                assertThat(actual).as(where).isEqualTo(expected.decision());
                if (admitted && cost > 0) {
                    lastAdmitted = actual;
                    lastCost = cost;
                }
            }
            if (expected.write() != null) {
                twin = expected.write().isEmpty() ? null : expected.write();
            }
            if (twin == null) {
                assertThat(pttl).as(where + ": no state, no key").isEqualTo(-2L);
            } else if (expected.write() != null && expected.ttlMs() >= 0) {
                if (pttl == -2 && expected.ttlMs() <= TTL_SLACK_MS) {
                    // a TTL of a few ms ran out in real time before PERSIST (Redis reads its clock per
                    // command, and this machine is shared): put the state back and go on
                    restore(redis, algorithm, key, twin);
                } else {
                    // the TTL as written, up to the real time that passed between the script and PTTL
                    assertThat(pttl)
                            .as(where + ": TTL written with the state")
                            .isBetween(Math.max(0, expected.ttlMs() - TTL_SLACK_MS), expected.ttlMs());
                }
            } else {
                assertThat(pttl).as(where + ": TTL left as it was (persisted)").isEqualTo(-1L);
            }
            assertThat(readState(redis, algorithm, key)).as(where + ": state").isEqualTo(twin);
            STEPS.get(algorithm).incrementAndGet();
        }
    }

    /** The key's state in the twin's form: the string, or the sorted set as {@link ZState} writes it. */
    private static String readState(RedisCommands<String, String> redis, Algorithm algorithm, String key) {
        if (!algorithm.sortedSet()) {
            return redis.get(key);
        }
        List<ZState.Entry> entries = redis.zrangeWithScores(key, 0, -1).stream()
                .map(v -> new ZState.Entry(v.getValue(), (long) v.getScore()))
                .toList();
        return entries.isEmpty() ? null : ZState.format(entries);
    }

    private static void restore(RedisCommands<String, String> redis, Algorithm algorithm, String key, String state) {
        if (!algorithm.sortedSet()) {
            redis.set(key, state);
            return;
        }
        for (ZState.Entry e : ZState.parse(state)) {
            redis.zadd(key, (double) e.score(), e.member());
        }
    }

    /** How much real time may pass between the script and PTTL in one transaction on a busy machine. */
    private static final long TTL_SLACK_MS = 50;

    private static void discardQuietly(RedisCommands<String, String> redis) {
        try {
            redis.discard();
        } catch (RuntimeException ignored) {
            // not in a transaction any more
        }
    }

    private static final Arbitrary<Long> PERIODS =
            Arbitraries.of(1L, 7L, 250L, 1_000L, 60_000L, 3_600_000L, 86_400_000L);

    @Provide
    Arbitrary<Limit> tokenBuckets() {
        Arbitrary<Long> bursts = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.longs().between(1, 1_000)),
                Tuple.of(1, Arbitraries.longs().between(1, 75_000_000)));
        Arbitrary<Long> rates = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.longs().between(1, 1_000)),
                Tuple.of(1, Arbitraries.longs().between(1, 10_000_000)));
        // near the 2^52 edge too: exactness there is what the integer design is for
        return Combinators.combine(bursts, rates, PERIODS)
                .as((b, r, p) -> new long[] {b, r, p})
                .filter(a -> a[0] <= Limit.MAX_SCALED / (a[2] * 1000))
                .map(a -> new Limit(a[0], a[1], a[2]));
    }

    @Provide
    Arbitrary<Limit> fixedWindows() {
        Arbitrary<Long> limits = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.longs().between(1, 50)),
                Tuple.of(1, Arbitraries.longs().between(1, 1_000_000)));
        return Combinators.combine(limits, PERIODS)
                .as((l, p) -> new long[] {l, p})
                .filter(a -> a[0] <= Limit.MAX_SCALED / (a[1] * 1000))
                .map(a -> new Limit(Algorithm.FIXED_WINDOW, a[0], a[0], a[1]));
    }

    @Provide
    Arbitrary<Limit> slidingWindows() {
        return fixedWindows().map(l -> new Limit(Algorithm.SLIDING_WINDOW_COUNTER, l.limit(), l.limit(), l.periodMs()));
    }

    @Provide
    Arbitrary<Limit> slidingLogs() {
        Arbitrary<Long> limits = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.longs().between(1, 50)),
                Tuple.of(1, Arbitraries.longs().between(1, 2_000)));
        return Combinators.combine(limits, PERIODS).as((l, p) -> new Limit(Algorithm.SLIDING_WINDOW_LOG, l, l, p));
    }

    @Provide
    Arbitrary<Limit> concurrencyLimits() {
        return Combinators.combine(Arbitraries.longs().between(1, 20), PERIODS)
                .as((l, p) -> new Limit(Algorithm.CONCURRENCY, l, l, p));
    }

    @Provide
    Arbitrary<Step> steps() {
        Arbitrary<Long> dt = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.longs().between(0, 50_000)),
                Tuple.of(3, Arbitraries.longs().between(0, 5_000_000)),
                Tuple.of(1, Arbitraries.longs().between(-2_000_000, 0)),
                Tuple.of(1, Arbitraries.longs().between(0, 100_000_000_000L)));
        Arbitrary<Long> cost = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(0L)),
                Tuple.of(6, Arbitraries.longs().between(1, 3)),
                Tuple.of(2, Arbitraries.longs().between(1, 1_000)));
        Arbitrary<Boolean> refund = Arbitraries.frequency(Tuple.of(7, false), Tuple.of(1, true));
        Arbitrary<Boolean> charge = Arbitraries.frequency(Tuple.of(6, false), Tuple.of(1, true));
        return Combinators.combine(dt, cost, refund, charge).as(Step::new);
    }
}
