package dev.sluice.lua;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.RedisNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The script's own contract on a real Redis: TTL, clock, look-only, state format, TIME. */
@ExtendWith(RedisServersExtension.class)
class TokenBucketScriptIT {
    private static final String KEY = "sl:{api:alice}:tb";
    private final RedisNode redis = RedisServers.standalone();

    @BeforeEach
    void flush() {
        redis.call("FLUSHALL");
    }

    private List<Object> run(long burst, long limit, long periodMs, long cost, long now) {
        @SuppressWarnings("unchecked")
        List<Object> r = (List<Object>) redis.call(
                "EVAL",
                LuaScript.TOKEN_BUCKET.source(),
                "1",
                KEY,
                Long.toString(burst),
                Long.toString(limit),
                Long.toString(periodMs),
                Long.toString(cost),
                Long.toString(now));
        return r;
    }

    private static final long S = 1_000_000L;

    @Test
    void consumingWritesOneIntegerWithTtlUntilFull() {
        // 10 per 100 s: full again 40 s after taking 4, long enough that a stalled host cannot let
        // the key expire between the script and the reads below (at 10 per second it was 400 ms)
        List<Object> r = run(10, 10, 100 * S, 4, 1_000 * S);
        assertThat(r).containsExactly(1L, 6L, 40_000L, 0L, 1_000_000_000L);
        assertThat(redis.call("GET", KEY)).isEqualTo(Long.toString(1_000 * S + 40 * S));
        assertThat(redis.call("OBJECT", "ENCODING", KEY)).isEqualTo("int");
        long pttl = (Long) redis.call("PTTL", KEY);
        assertThat(pttl).isBetween(30_000L, 40_000L);
    }

    @Test
    void aLookWritesNothingAndTellsWhetherOneTokenIsThere() {
        assertThat(run(2, 1, S, 0, 5 * S)).containsExactly(1L, 2L, 0L, 0L, 5_000_000L);
        assertThat(redis.call("EXISTS", KEY)).isEqualTo(0L);
        run(2, 1, S, 2, 5 * S);
        assertThat(run(2, 1, S, 0, 5_100_000)).containsExactly(0L, 0L, 1_900L, 900L, 5_100_000L);
    }

    @Test
    void aClockThatRunsBackwardsNeverHandsOutTokens() {
        run(10, 10, S, 10, 2 * S);
        List<Object> earlier = run(10, 10, S, 1, S);
        assertThat(earlier.get(0)).isEqualTo(0L);
        assertThat(earlier.get(1)).isEqualTo(0L);
        assertThat(redis.call("GET", KEY)).isEqualTo(Long.toString(3 * S));
    }

    @Test
    void aDenialWritesNothing() {
        run(3, 1, 60 * S, 3, 0);
        String before = (String) redis.call("GET", KEY);
        List<Object> denied = run(3, 1, 60 * S, 2, 30 * S);
        assertThat(denied).containsExactly(0L, 0L, 150_000L, 90_000L, 30_000_000L);
        assertThat(redis.call("GET", KEY)).isEqualTo(before);
    }

    @Test
    void withoutAnExplicitNowTheShardClockDecides() {
        long before = System.currentTimeMillis();
        List<Object> r = run(5, 5, S, 1, -1);
        long after = System.currentTimeMillis();
        assertThat((Long) r.get(4) / 1000).isBetween(before - 1_000, after + 1_000);
    }

    @Test
    void anUnreadableStateCountsAsAFullBucket() {
        redis.call("SET", KEY, "not-a-number");
        assertThat(run(3, 3, S, 3, 10 * S).get(0)).isEqualTo(1L);
    }

    @Test
    void theFixedWindowScriptCountsPerWindowWithTtlToItsEnd() {
        String key = "sl:{api:alice}:fw";
        @SuppressWarnings("unchecked")
        List<Object> r = (List<Object>) redis.call(
                "EVAL", LuaScript.FIXED_WINDOW.source(), "1", key, "5", "5", Long.toString(S), "2", "10250000");
        assertThat(r).containsExactly(1L, 3L, 750L, 0L, 10_250_000L);
        assertThat(redis.call("GET", key)).isEqualTo("10:2");
        assertThat((Long) redis.call("PTTL", key)).isBetween(650L, 750L);
    }

    @Test
    void theDigestIsTheOneRedisComputes() {
        assertThat(redis.call("SCRIPT", "LOAD", LuaScript.TOKEN_BUCKET.source()))
                .isEqualTo(LuaScript.TOKEN_BUCKET.sha1());
    }
}
