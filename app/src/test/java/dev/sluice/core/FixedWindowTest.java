package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FixedWindowTest {
    private static final long S = 1_000_000L;
    private static final Limit FIVE_PER_SECOND = new Limit(Algorithm.FIXED_WINDOW, 5, 5, 1_000);

    @Test
    void countsWithinTheWindowAndLivesUntilItEnds() {
        Outcome o = FixedWindow.decide(FIVE_PER_SECOND, null, 2, 10 * S + 250_000);
        assertThat(o.decision()).isEqualTo(new Decision(true, 5, 3, 750, 0, 10_250_000));
        assertThat(o.write()).isEqualTo("10:2");
        assertThat(o.ttlMs()).isEqualTo(750);
    }

    @Test
    void deniesUntilTheWindowEndsThenTheNextWindowIsFull() {
        Outcome full = FixedWindow.decide(FIVE_PER_SECOND, "10:5", 1, 10 * S + 600_000);
        assertThat(full.decision()).isEqualTo(new Decision(false, 5, 0, 400, 400, 10_600_000));
        assertThat(full.write()).isNull();
        Outcome next = FixedWindow.decide(FIVE_PER_SECOND, "10:5", 5, 11 * S);
        assertThat(next.decision().allowed()).isTrue();
        assertThat(next.write()).isEqualTo("11:5");
    }

    @Test
    void aClockReadingInAnEarlierWindowCountsInTheStoredOne() {
        Outcome o = FixedWindow.decide(FIVE_PER_SECOND, "12:5", 1, 11 * S);
        assertThat(o.decision().allowed()).isFalse();
        assertThat(o.decision().remaining()).isZero();
    }

    /** The classic boundary bias, which operators expect of a fixed window: 2x within one period. */
    @Test
    void aFullWindowJustBeforeAndJustAfterABoundaryAdmitsTwiceTheLimit() {
        String state =
                FixedWindow.decide(FIVE_PER_SECOND, null, 5, 11 * S - 1_000).write();
        Outcome after = FixedWindow.decide(FIVE_PER_SECOND, state, 5, 11 * S + 1_000);
        assertThat(after.decision().allowed()).isTrue();
    }

    @Test
    void aBurstOtherThanTheLimitIsRefused() {
        assertThatThrownBy(() -> new Limit(Algorithm.FIXED_WINDOW, 10, 5, 1_000))
                .hasMessageStartingWith("burst: applies to token-bucket and gcra only");
    }
}
