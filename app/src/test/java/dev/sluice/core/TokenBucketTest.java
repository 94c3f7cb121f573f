package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private static final Limit TEN_PER_SECOND = new Limit(10, 10, 1_000);

    @Test
    void aFreshBucketIsFull() {
        Decision d = TokenBucket.decide(TEN_PER_SECOND, null, 0, 0).decision();
        assertThat(d).isEqualTo(new Decision(true, 10, 10, 0, 0, 0));
    }

    @Test
    void takesTheCostAndReportsWhenFullAgain() {
        TokenBucket.Outcome o = TokenBucket.decide(TEN_PER_SECOND, null, 3, 1_000);
        assertThat(o.decision()).isEqualTo(new Decision(true, 10, 7, 300, 0, 1_000));
        assertThat(o.write()).isEqualTo(new TokenBucketState(7_000, 1_000, 1_000));
        assertThat(o.ttlMs()).isEqualTo(300);
    }

    @Test
    void deniesWithTheTimeUntilTheCostIsThereAndWritesNothing() {
        TokenBucketState empty = new TokenBucketState(0, 0, 1_000);
        TokenBucket.Outcome o = TokenBucket.decide(TEN_PER_SECOND, empty, 4, 150);
        assertThat(o.decision()).isEqualTo(new Decision(false, 10, 1, 850, 250, 150));
        assertThat(o.write()).isNull();
    }

    @Test
    void refillsContinuouslyAndCapsAtBurst() {
        TokenBucketState empty = new TokenBucketState(0, 0, 1_000);
        assertThat(TokenBucket.decide(TEN_PER_SECOND, empty, 0, 250).decision().remaining())
                .isEqualTo(2);
        assertThat(TokenBucket.decide(TEN_PER_SECOND, empty, 0, 60_000)
                        .decision()
                        .remaining())
                .isEqualTo(10);
    }

    @Test
    void aClockReadingBeforeTheLastUpdateCountsAsTheLastUpdate() {
        TokenBucketState state = new TokenBucketState(0, 5_000, 1_000);
        Decision d = TokenBucket.decide(TEN_PER_SECOND, state, 1, 1_000).decision();
        assertThat(d.allowed()).isFalse();
        assertThat(d.nowMs()).isEqualTo(5_000);
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
            @ForAll("limits") Limit limit,
            @ForAll @Size(min = 1, max = 300) List<@net.jqwik.api.From("steps") long[]> steps) {
        TokenBucketState state = null;
        long now = 0;
        Deque<long[]> admitted = new ArrayDeque<>();
        for (long[] step : steps) {
            now += step[0];
            long cost = Math.min(step[1], limit.burst());
            TokenBucket.Outcome o = TokenBucket.decide(limit, state, cost, now);
            if (o.write() != null) {
                state = o.write();
                admitted.add(new long[] {now, cost});
            }
        }
        List<long[]> all = List.copyOf(admitted);
        for (int i = 0; i < all.size(); i++) {
            long sum = 0;
            for (int j = i; j < all.size(); j++) {
                sum += all.get(j)[1];
                long interval = all.get(j)[0] - all.get(i)[0];
                // burst + limit * T / period, with T the closed interval between the two admissions
                assertThat(sum * limit.periodMs())
                        .isLessThanOrEqualTo(limit.burst() * limit.periodMs() + limit.limit() * interval);
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
                        Arbitraries.longs().between(0, 400), Arbitraries.longs().between(1, 5))
                .as((dt, cost) -> new long[] {dt, cost});
    }
}
