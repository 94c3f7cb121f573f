package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private static final Limit TEN_PER_SECOND = new Limit(10, 10, 1_000);
    private static final long S = 1_000_000L;

    @Test
    void aFreshBucketIsFull() {
        Decision d = TokenBucket.decide(TEN_PER_SECOND, null, 0, 0).decision();
        assertThat(d).isEqualTo(new Decision(true, 10, 10, 0, 0, 0));
    }

    @Test
    void takesTheCostAndReportsWhenFullAgain() {
        Outcome o = TokenBucket.decide(TEN_PER_SECOND, null, 3, S);
        assertThat(o.decision()).isEqualTo(new Decision(true, 10, 7, 300, 0, 1_000_000));
        assertThat(o.write()).isEqualTo(Long.toString(S + 300_000));
        assertThat(o.ttlMs()).isEqualTo(300);
    }

    @Test
    void deniesWithTheTimeUntilTheCostIsThereAndWritesNothing() {
        String emptyAtZero = Long.toString(S);
        Outcome o = TokenBucket.decide(TEN_PER_SECOND, emptyAtZero, 4, 150_000);
        assertThat(o.decision()).isEqualTo(new Decision(false, 10, 1, 850, 250, 150_000));
        assertThat(o.write()).isNull();
    }

    @Test
    void refillsContinuouslyAndCapsAtBurst() {
        String emptyAtZero = Long.toString(S);
        assertThat(TokenBucket.decide(TEN_PER_SECOND, emptyAtZero, 0, 250_000)
                        .decision()
                        .remaining())
                .isEqualTo(2);
        assertThat(TokenBucket.decide(TEN_PER_SECOND, emptyAtZero, 0, 60 * S)
                        .decision()
                        .remaining())
                .isEqualTo(10);
    }

    @Test
    void aClockThatRunsBackwardsNeverHandsOutTokens() {
        String emptyAtFiveSeconds = Long.toString(6 * S);
        Outcome o = TokenBucket.decide(TEN_PER_SECOND, emptyAtFiveSeconds, 1, S);
        assertThat(o.decision().allowed()).isFalse();
        assertThat(o.decision().remaining()).isZero();
        assertThat(o.write()).isNull();
    }

    @Test
    void aFractionalIntervalIsRoundedUpToTheMicrosecond() {
        Limit threePerSecond = new Limit(3, 3, 1_000);
        Outcome o = TokenBucket.decide(threePerSecond, null, 1, 0);
        assertThat(o.write()).isEqualTo("333334");
    }

    @Test
    void secondsRoundUpAndADenialWaitsAtLeastOneSecond() {
        Decision denied = new Decision(false, 10, 0, 1, 1, 0);
        assertThat(denied.resetSeconds()).isEqualTo(1);
        assertThat(denied.retryAfterSeconds()).isEqualTo(1);
        assertThat(new Decision(true, 10, 9, 1_001, 0, 0).resetSeconds()).isEqualTo(2);
    }

    /** The contract's guarantee: over any interval T, at most burst + limit * T / period units. */
    @Property(tries = 300, seed = "20261122")
    void neverAdmitsMoreThanTheBoundOverAnyInterval(
            @ForAll("limits") Limit limit, @ForAll @Size(min = 1, max = 300) List<@From("steps") long[]> steps) {
        String state = null;
        long now = 0;
        List<long[]> admitted = new ArrayList<>();
        for (long[] step : steps) {
            now += step[0];
            long cost = Math.min(step[1], limit.burst());
            Outcome o = TokenBucket.decide(limit, state, cost, now);
            if (o.write() != null) {
                state = o.write();
                admitted.add(new long[] {now, cost});
            }
        }
        long period = limit.periodMicros();
        for (int i = 0; i < admitted.size(); i++) {
            long sum = 0;
            for (int j = i; j < admitted.size(); j++) {
                sum += admitted.get(j)[1];
                long interval = admitted.get(j)[0] - admitted.get(i)[0];
                assertThat(sum * period).isLessThanOrEqualTo(limit.burst() * period + limit.limit() * interval);
            }
        }
    }

    @Provide
    Arbitrary<Limit> limits() {
        return Combinators.combine(
                        Arbitraries.longs().between(1, 50),
                        Arbitraries.longs().between(1, 50),
                        Arbitraries.of(1L, 10L, 100L, 1_000L, 60_000L))
                .as(Limit::new);
    }

    @Provide
    Arbitrary<long[]> steps() {
        return Combinators.combine(
                        Arbitraries.longs().between(-1_000, 400_000),
                        Arbitraries.longs().between(1, 5))
                .as((dt, cost) -> new long[] {dt, cost});
    }
}
