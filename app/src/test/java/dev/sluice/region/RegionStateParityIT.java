package dev.sluice.region;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.RedisNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The twins against the scripts, step by step: random sequences of global checks (their answers and
 * the bucket's state too: {@link GlobalBucket}), claims,
 * acknowledgements, deliveries (duplicate, late, ahead) and reads, at random virtual times over a
 * minute and a half, run on a real Redis (region.lua and prelude.lua's global part, each given the
 * same {@code now}) and on {@link RegionState}. After every step the replies agree and the hash
 * is field for field what the twin holds, with a time to live whenever it exists.
 */
@ExtendWith(RedisServersExtension.class)
class RegionStateParityIT {
    private static final String STATE = "sl:{global:p}:gr";
    private static final String BUCKET = "sl:{global:p}:tb";
    private static final long S = 1_000_000;
    private static final long F = 3;
    private static final long TTL_MS = 3_600_000; // longer than any sequence: Redis's own clock expires it
    private static final long EXPIRY = 20_000_000; // a peer not heard of for 20 s no longer counts
    private static final List<String> PEERS = List.of("b", "c");
    private static final long INITIAL = RegionShares.initial(3);
    private static final long PHI = RegionShares.guaranteed(0.05, 3);
    private static final dev.sluice.core.Limit LIMIT = new dev.sluice.core.Limit(50, 50, 1_000);
    private final RedisNode redis = RedisServers.standalone();

    private final RegionState.Config config = new RegionState.Config(S, 3, F, PHI, TTL_MS * 1000, EXPIRY, PEERS);

    private static final RegionScripts.Region REGION =
            new RegionScripts.Region(STATE, S, 3, F, TTL_MS, EXPIRY, PEERS, PHI);

    private List<Long> region(long now, String op, String... more) {
        return RegionScripts.region(redis, REGION, now, op, more);
    }

    /** A global token bucket check (burst 50, 50 a second) at {@code now}, as RedisScriptStore sends it. */
    private List<Long> check(long now, long cost) {
        return RegionScripts.check(redis, REGION, BUCKET, 50, 1_000_000, cost, now, INITIAL);
    }

    @SuppressWarnings("unchecked")
    private Map<String, String> hash() {
        List<Object> flat = (List<Object>) redis.call("HGETALL", STATE);
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < flat.size(); i += 2) {
            out.put((String) flat.get(i), (String) flat.get(i + 1));
        }
        return out;
    }

    private static List<String> someOf(Random random, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (random.nextBoolean()) {
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void theTwinAndTheScriptsAgreeStepByStep() {
        long start = System.currentTimeMillis() * 1000;
        for (long seed = 1; seed <= 60; seed++) {
            redis.call("FLUSHALL");
            Random random = new Random(seed);
            RegionState twin = new RegionState(config);
            String bucket = null; // the twin's bucket state (GlobalBucket)
            long now = start;
            long lastReal = System.nanoTime() / 1000;
            List<long[]> shipped = new ArrayList<>(); // {period, demand}
            for (int step = 0; step < 80; step++) {
                // never slower than real time: a bucket Redis expired (in real time) is then one the
                // twin holds as full too
                long real = System.nanoTime() / 1000;
                now += Math.max(
                        random.nextInt(4) == 0 ? random.nextLong(3 * S) : random.nextLong(S / 20), real - lastReal);
                lastReal = real;
                String what = "seed " + seed + " step " + step;
                switch (random.nextInt(7)) {
                    case 0, 1, 6 -> {
                        // one in three a reconciliation charge (forced, up to one burst of overdraft),
                        // each under a marker of its own
                        boolean charge = random.nextInt(3) == 0;
                        long cost =
                                charge ? 1 + random.nextInt(60) : random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(7);
                        dev.sluice.core.Outcome o = charge
                                ? GlobalBucket.charge(LIMIT, twin, bucket, cost, now, INITIAL, S)
                                : GlobalBucket.check(LIMIT, twin, bucket, cost, now, INITIAL, S);
                        List<Long> r = charge
                                ? RegionScripts.charge(
                                        redis,
                                        REGION,
                                        BUCKET,
                                        "sl:{global:p}:once:" + step,
                                        50,
                                        1_000_000,
                                        cost,
                                        now,
                                        INITIAL)
                                : check(now, cost);
                        dev.sluice.core.Decision d = o.decision();
                        assertThat(r)
                                .as(what + ": the check's answer")
                                .containsExactly(
                                        d.allowed() ? 1L : 0L, d.remaining(), d.resetMs(), d.retryAfterMs(), now);
                        if (o.write() != null) {
                            bucket = o.write();
                        }
                        // the bucket's state, unless it has expired in Redis's own (real) time: the
                        // twin's stays, and decides as a full bucket once now passes it
                        String held = (String) redis.call("GET", BUCKET);
                        if (held != null) {
                            assertThat(held).as(what + ": the bucket").isEqualTo(bucket);
                        }
                        assertThat(twin.share(now, INITIAL)).as(what).isEqualTo(Long.parseLong(hash().get("su")));
                    }
                    case 2 -> {
                        List<String> to = someOf(random, PEERS);
                        RegionState.Ship t = twin.ship(to, now);
                        List<Long> r = region(now, "ship", String.join(",", to));
                        List<Long> expected =
                                new ArrayList<>(List.of(t.claimed() ? 1L : 0L, t.demand(), t.period(), t.share()));
                        if (t.claimed()) {
                            expected.add(t.raise() ? 1L : 0L);
                            shipped.add(new long[] {t.period(), t.demand()});
                        }
                        assertThat(r).as(what).isEqualTo(expected);
                    }
                    case 3 -> {
                        if (shipped.isEmpty()) {
                            continue;
                        }
                        long[] sent = shipped.get(random.nextInt(shipped.size()));
                        List<String> took = someOf(random, PEERS);
                        long sn = twin.acked(sent[0], sent[1], took, now);
                        assertThat(region(
                                        now,
                                        "acked",
                                        Long.toString(sent[0]),
                                        Long.toString(sent[1]),
                                        String.join(",", took)))
                                .as(what)
                                .containsExactly(sn);
                    }
                    case 4 -> {
                        String origin = PEERS.get(random.nextInt(PEERS.size()));
                        long period = Math.floorDiv(now, S) - 3 + random.nextInt(6);
                        long demand = random.nextInt(4) == 0 ? 0 : random.nextInt(200);
                        RegionState.Applied a = twin.apply(origin, period, demand, now);
                        assertThat(region(now, "apply", origin, Long.toString(period), Long.toString(demand)))
                                .as(what)
                                .containsExactly(a.applied() ? 1L : 0L, a.share());
                    }
                    default -> assertThat(region(now, "read")).as(what).isEqualTo(twin.read(now));
                }
                assertThat(hash()).as(what).isEqualTo(twin.fields(now));
                boolean exists = (Long) redis.call("EXISTS", STATE) == 1L;
                assertThat(exists).as(what).isEqualTo(twin.exists(now));
                if (exists) {
                    assertThat((Long) redis.call("PTTL", STATE)).as(what).isPositive();
                }
            }
        }
    }

    @Test
    void aLookAtASubjectWithNoStateLeavesNothingThatNeverExpires() {
        redis.call("FLUSHALL");
        long now = System.currentTimeMillis() * 1000;
        check(now, 0);
        assertThat((Long) redis.call("PTTL", STATE)).isPositive();
        RegionState twin = new RegionState(config);
        twin.decide(0, now, INITIAL);
        assertThat(twin.expires()).isTrue();
    }
}
