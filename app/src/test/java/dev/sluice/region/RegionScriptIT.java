package dev.sluice.region;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.RedisNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * region.lua and prelude.lua's global part on a real Redis, against their Java twin
 * (RegionShares): the share each operation leaves, the bucket a share gives, the demand a check
 * counts, and deliveries applied once and in period order.
 */
@ExtendWith(RedisServersExtension.class)
class RegionScriptIT {
    private static final String STATE = "sl:{global:k}:gr";
    private static final String BUCKET = "sl:{global:k}:tb";
    private static final long S = 3_600_000_000L; // an hour: no period ends during a test
    private static final long F = 2;
    private static final long PHI = RegionShares.guaranteed(0.05, 3);
    private final RedisNode redis = RedisServers.standalone();

    @BeforeEach
    void flush() {
        redis.call("FLUSHALL");
    }

    private static final RegionScripts.Region REGION =
            new RegionScripts.Region(STATE, S, 3, F, 60_000, 3_600_000_000L, List.of("b", "c"), PHI);

    private List<Long> region(String op, String... more) {
        return RegionScripts.region(redis, REGION, -1, op, more);
    }

    /** A global token bucket check of burst 100, 100 per period (µs) (prelude.lua's global part). */
    private List<Long> check(long cost, long periodMicros) {
        return RegionScripts.check(redis, REGION, BUCKET, 100, periodMicros, cost, -1, 3333);
    }

    /** 100 per second. */
    private List<Long> check(long cost) {
        return check(cost, 1_000_000);
    }

    /** 100 per 100 s. */
    private List<Long> slowCheck(long cost) {
        return check(cost, 100_000_000);
    }

    private long period() {
        @SuppressWarnings("unchecked")
        List<Object> t = (List<Object>) redis.call("TIME");
        long now = Long.parseLong((String) t.get(0)) * 1_000_000 + Long.parseLong((String) t.get(1));
        return now / S;
    }

    @Test
    void aRegionDecidesOnItsShareOfTheBucketAndCountsItsDemand() {
        redis.call("HSET", STATE, "sn", "2500");
        int admitted = 0;
        for (int i = 0; i < 40; i++) {
            admitted += check(1).get(0) == 1L ? 1 : 0;
        }
        assertThat(admitted).isEqualTo((int) RegionShares.burst(100, 2500)); // 25 of 100
        assertThat(redis.call("HGET", STATE, "c")).isEqualTo("40"); // denied checks are demand too
        assertThat(redis.call("HGET", STATE, "ck")).isEqualTo(Long.toString(period()));
        assertThat(check(0).get(0)).isEqualTo(0L); // a look counts nothing
        assertThat(redis.call("HGET", STATE, "c")).isEqualTo("40");
    }

    @Test
    void aGrownShareGivesTheBucketNoTokensAndAShrunkOneTakesThemDown() {
        redis.call("HSET", STATE, "sn", "2500");
        assertThat(slowCheck(20).get(1)).isEqualTo(5L); // 25 of 100, 20 taken
        redis.call("HSET", STATE, "sn", "5000");
        // still 5 (a share of 0.5 refills 0.5 a second: nothing in the time this takes), not 30
        List<Long> look = slowCheck(0);
        assertThat(look.get(1)).isEqualTo(5L);
        assertThat(slowCheck(6).get(0)).isZero();
        assertThat(slowCheck(5).get(0)).isEqualTo(1L);
        // the move, as the twin computes it: debt under 2500 of 20 tokens (at 0.25 a second: 80 s)
        long debt = RegionShares.grownDebt(100, 100, 100_000_000, 2500, 5000, 80_000_000);
        assertThat(debt).isEqualTo(90_000_001L); // 45 tokens owed at 0.5 a second
        redis.call("HSET", STATE, "sn", "1000");
        assertThat(slowCheck(0).get(1)).isZero(); // 10 of 100 with 50 owed: none
    }

    @Test
    void withoutAShareTheRegionHoldsAnEqualSplitAndBelowOneTokenItDeniesForASyncPeriod() {
        int admitted = 0;
        for (int i = 0; i < 50; i++) {
            // 100 per 100 s: a third of it refills one token in 3 s, none during the loop (at 100 a
            // second a loaded machine let one refill in: 34)
            admitted += check(1, 100_000_000).get(0) == 1L ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(33);
        redis.call("DEL", BUCKET);
        redis.call("HSET", STATE, "sn", "99"); // 0.99 % of a burst of 100: no whole token
        List<Long> denied = check(1);
        assertThat(denied.subList(0, 4)).containsExactly(0L, 0L, S / 1000, S / 1000);
        assertThat(redis.call("EXISTS", BUCKET)).isEqualTo(0L);
    }

    @Test
    void shipLowersFirstAckedRaisesPerPeerAndApplyTakesNewerPeriodsOnly() {
        long k = period();
        String last = Long.toString(k - 1);
        redis.call("HSET", STATE, "ck", last, "c", "40");
        // the last complete period's demand, claimed once, for b and c; nothing taken yet: the floor
        assertThat(region("ship", "b,c")).containsExactly(1L, 40L, k - 1, RegionShares.share(F, PHI, 3, 0, 0), 1L);
        assertThat(region("ship", "b,c").get(0)).isZero(); // claimed already
        assertThat(region("acked", last, "40", "")).containsExactly(RegionShares.share(F, PHI, 3, 0, 0));
        assertThat(region("acked", last, "40", "b")).containsExactly(RegionShares.share(F, PHI, 3, 0, 0)); // c not yet
        assertThat(region("acked", last, "40", "c")).containsExactly(RegionShares.share(F, PHI, 3, 40, 0));
        assertThat(region("apply", "b", "7", "100")).containsExactly(1L, RegionShares.share(F, PHI, 3, 40, 100));
        assertThat(region("apply", "b", "7", "100").get(0)).isZero(); // a duplicate
        assertThat(region("apply", "b", "6", "5").get(0)).isZero(); // late
        assertThat(region("apply", "c", "3", "60")).containsExactly(1L, RegionShares.share(F, PHI, 3, 40, 160));
        assertThat(region("read").subList(0, 4))
                .containsExactly(RegionShares.share(F, PHI, 3, 40, 160), 40L, 40L, 160L);
        assertThat(region("read").subList(4, 10)).containsExactly(40L, 100L, k - 1, 40L, 60L, k - 1);
        assertThat(redis.call("HGET", STATE, "sn")).isEqualTo(Long.toString(RegionShares.share(F, PHI, 3, 40, 160)));
        assertThat((Long) redis.call("PTTL", STATE)).isBetween(1L, 60_000L);

        // c cut off: a dip of demand shipped to b alone lowers what b may hold, not what c holds
        redis.call("HSET", STATE, "sk", Long.toString(k - 2), "c", "10");
        assertThat(region("ship", "b").subList(0, 2)).containsExactly(1L, 10L);
        assertThat(redis.call("HGET", STATE, "l:b")).isEqualTo("10");
        assertThat(redis.call("HGET", STATE, "l:c")).isEqualTo("40");
    }

    @Test
    void aPeerNotHeardOfForLongerThanTheExpiryNoLongerCounts() {
        region("apply", "b", "7", "100");
        // heard an hour and a second ago
        @SuppressWarnings("unchecked")
        List<Object> t = (List<Object>) redis.call("TIME");
        long now = Long.parseLong((String) t.get(0)) * 1_000_000 + Long.parseLong((String) t.get(1));
        redis.call("HSET", STATE, "h:b", Long.toString(now - 3_601_000_000L));
        assertThat(region("read").get(3)).isZero();
    }
}
