package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.lua.LuaScript;
import dev.sluice.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TransactionResult;
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
 * The Java twin and the Lua script, step for step on a real Redis: seeded random sequences of
 * checks, costs (including looks) and clock steps (including backwards ones) through both; every
 * decision, remaining count, reset, retry time and written state must be equal, and the key's TTL
 * must be exactly the twin's. After each write the test removes the key's TTL (PERSIST, in the
 * same transaction), because Redis expires keys in real time while the sequence runs on a simulated
 * clock; the twin needs no expiry (a state past its time to live decides as a full bucket).
 */
class TokenBucketDifferentialIT {
    private static final AtomicLong STEPS = new AtomicLong();
    private static final AtomicLong SEQUENCES = new AtomicLong();
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    record Step(long dtMicros, long cost) {}

    @BeforeContainer
    static void connect() {
        client = RedisClient.create(RedisServers.standalone().uri());
        connection = client.connect();
        connection.sync().flushall();
        connection.sync().scriptLoad(LuaScript.TOKEN_BUCKET.source());
    }

    @AfterContainer
    static void report() {
        System.out.printf(
                "TokenBucketDifferentialIT: %d sequences, %d steps, 0 mismatches (a mismatch fails the test)%n",
                SEQUENCES.get(), STEPS.get());
        connection.close();
        client.shutdown();
    }

    @Property(tries = 800, seed = "424242")
    void twinAndScriptAgreeOnEveryStep(
            @ForAll("limits") Limit limit, @ForAll @Size(min = 10, max = 40) List<@From("steps") Step> steps) {
        RedisCommands<String, String> redis = connection.sync();
        String key = "sl:{diff:" + SEQUENCES.incrementAndGet() + "}:tb";
        Long twin = null;
        long now = 1_700_000_000_000_000L;
        for (Step step : steps) {
            now += step.dtMicros();
            long cost = Math.min(step.cost(), limit.burst());
            TokenBucket.Outcome expected = TokenBucket.decide(limit, twin, cost, now);
            // script, PTTL and PERSIST in one transaction: Redis (7+) freezes time inside it, so
            // the TTL is read as written (to the millisecond) and the key cannot expire before PERSIST
            redis.multi();
            redis.evalsha(
                    LuaScript.TOKEN_BUCKET.sha1(),
                    ScriptOutputType.MULTI,
                    new String[] {key},
                    Long.toString(limit.burst()),
                    Long.toString(limit.limit()),
                    Long.toString(limit.periodMicros()),
                    Long.toString(cost),
                    Long.toString(now));
            redis.pttl(key);
            redis.persist(key);
            TransactionResult tx = redis.exec();
            List<Long> r = tx.get(0);
            long pttl = tx.get(1);
            Decision actual = new Decision(r.get(0) == 1L, limit.burst(), r.get(1), r.get(2), r.get(3), r.get(4));
            assertThat(actual)
                    .as("step %d of %s at %d, cost %d", STEPS.get(), limit, now, cost)
                    .isEqualTo(expected.decision());
            if (expected.write() != null) {
                twin = expected.write();
                // the same ms up to Redis re-reading its millisecond clock between the script and PTTL
                assertThat(pttl)
                        .as("TTL written with the state")
                        .isBetween(Math.max(0, expected.ttlMs() - 2), expected.ttlMs());
                assertThat(redis.get(key)).isEqualTo(Long.toString(twin));
            } else if (twin != null) {
                assertThat(pttl).as("no write, no TTL").isEqualTo(-1L);
                assertThat(redis.get(key)).isEqualTo(Long.toString(twin));
            } else {
                assertThat(redis.exists(key)).isZero();
            }
            STEPS.incrementAndGet();
        }
    }

    @Provide
    Arbitrary<Limit> limits() {
        Arbitrary<Long> periods = Arbitraries.of(1L, 7L, 250L, 1_000L, 60_000L, 3_600_000L, 86_400_000L);
        Arbitrary<Long> bursts = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(1, 1_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 75_000_000)));
        Arbitrary<Long> rates = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(1, 1_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 10_000_000)));
        // near the 2^52 edge too: exactness there is what the integer design is for
        return Combinators.combine(bursts, rates, periods)
                .as((b, r, p) -> new long[] {b, r, p})
                .filter(a -> a[0] <= Limit.MAX_SCALED / (a[2] * 1000))
                .map(a -> new Limit(a[0], a[1], a[2]));
    }

    @Provide
    Arbitrary<Step> steps() {
        Arbitrary<Long> dt = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.longs().between(0, 50_000)),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(0, 5_000_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(-2_000_000, 0)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(0, 100_000_000_000L)));
        Arbitrary<Long> cost = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, 3)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(1, 1_000)));
        return Combinators.combine(dt, cost).as(Step::new);
    }
}
