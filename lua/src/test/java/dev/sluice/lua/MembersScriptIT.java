package dev.sluice.lua;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testkit.RedisNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The membership script on a real Redis: counts nodes heard from within the ttl, forgets the rest. */
@ExtendWith(RedisServersExtension.class)
class MembersScriptIT {
    private static final String KEY = "sl:{nodes}";
    private final RedisNode redis = RedisServers.standalone();

    @BeforeEach
    void flush() {
        redis.call("FLUSHALL");
    }

    private long beat(String node, long ttlMs, boolean leaving) {
        return (Long) redis.call(
                "EVAL", LuaScript.MEMBERS.source(), "1", KEY, node, Long.toString(ttlMs), leaving ? "1" : "0");
    }

    @Test
    void countsEveryNodeOnceAndForgetsOneThatLeaves() {
        assertThat(beat("a", 60_000, false)).isEqualTo(1);
        assertThat(beat("b", 60_000, false)).isEqualTo(2);
        assertThat(beat("a", 60_000, false)).isEqualTo(2);
        assertThat(beat("c", 60_000, false)).isEqualTo(3);
        assertThat(beat("b", 60_000, true)).isEqualTo(2);
        assertThat((Long) redis.call("PTTL", KEY)).isBetween(1L, 120_000L);
    }

    @Test
    void aNodeNotHeardFromWithinTheTtlIsNoLongerCounted() {
        beat("a", 200, false);
        assertThat(beat("b", 200, false)).isEqualTo(2);
        // only "a" keeps beating: "b" drops out once 200 ms have passed on Redis's clock
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> beat("a", 200, false) == 1);
        assertThat(beat("a", 200, false)).isEqualTo(1);
    }
}
