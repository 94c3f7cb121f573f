package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SlidingWindowCounterTest {
    private static final long S = 1_000_000L;
    private static final Limit TEN_PER_SECOND = new Limit(Algorithm.SLIDING_WINDOW_COUNTER, 10, 10, 1_000);

    @Test
    void countsInTheCurrentWindowAndLivesUntilTheNextOneEnds() {
        Outcome o = SlidingWindowCounter.decide(TEN_PER_SECOND, null, 4, 10 * S + 250_000);
        assertThat(o.decision()).isEqualTo(new Decision(true, 10, 6, 1_750, 0, 10_250_000));
        assertThat(o.write()).isEqualTo("10:4:0");
        assertThat(o.ttlMs()).isEqualTo(1_750);
    }

    @Test
    void thePreviousWindowWeighsByItsOverlapWithTheSlidingPeriod() {
        // 10 in window 10; at 11.25 s three quarters of it still overlap: estimate 7.5
        Decision d = SlidingWindowCounter.decide(TEN_PER_SECOND, "10:10:0", 0, 11 * S + 250_000)
                .decision();
        assertThat(d.remaining()).isEqualTo(2);
        Outcome three = SlidingWindowCounter.decide(TEN_PER_SECOND, "10:10:0", 3, 11 * S + 250_000);
        assertThat(three.decision().allowed()).isFalse();
        // 7.5 + 3 <= 10 once the weight is at most 0.7: at 11.3 s, 50 ms later
        assertThat(three.decision().retryAfterMs()).isEqualTo(50);
        assertThat(SlidingWindowCounter.decide(TEN_PER_SECOND, "10:10:0", 3, 11 * S + 300_000)
                        .decision()
                        .allowed())
                .isTrue();
    }

    /** The boundary attack: a full limit just before a boundary leaves almost nothing just after it. */
    @Test
    void aFullLimitJustBeforeABoundaryIsStillCountedJustAfterIt() {
        String state = SlidingWindowCounter.decide(TEN_PER_SECOND, null, 10, 11 * S - 1_000)
                .write();
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            Outcome o = SlidingWindowCounter.decide(TEN_PER_SECOND, state, 1, 11 * S + 1_000);
            if (o.write() != null) {
                state = o.write();
                admitted++;
            }
        }
        assertThat(admitted).isZero();
    }

    @Test
    void aWindowOlderThanThePreviousOneIsForgotten() {
        assertThat(SlidingWindowCounter.decide(TEN_PER_SECOND, "10:10:10", 0, 12 * S)
                        .decision()
                        .remaining())
                .isEqualTo(10);
    }
}
