package dev.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.limiter.Verdict;
import dev.sluice.store.Subject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Callers waiting on one subject are told different times, spread over the time it can serve them. */
class RetrySpreadTest {
    private static final Limit TEN_PER_10S = new Limit(Algorithm.TOKEN_BUCKET, 10, 10, 10_000);

    /** A denial of {@code subject} at {@code nowMs}, its cost back in {@code retryMs}. */
    private static Verdict denied(String subject, Limit limit, long nowMs, long retryMs) {
        Decision d = new Decision(false, limit.burst(), 0, 10_000, retryMs, nowMs * 1000);
        return new Verdict(
                null, subject, null, 1, d, false, false, new Subject("p", subject), limit, Verdict.Source.STORE, false);
    }

    @Test
    void aCallerAloneIsToldExactlyWhatItNeeds() {
        RetrySpread spread = new RetrySpread(() -> 1);
        assertThat(spread.seconds(denied("a", TEN_PER_10S, 1_000_000, 400))).isEqualTo(1);
        // long after, alone again: the queue has emptied
        assertThat(spread.seconds(denied("a", TEN_PER_10S, 1_100_000, 2_300))).isEqualTo(3);
    }

    @Test
    void waitersAreSpacedByTheRefillOfTheirCostUpToOnePeriod() {
        RetrySpread spread = new RetrySpread(() -> 1);
        List<Long> told = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            told.add(spread.seconds(denied("herd", TEN_PER_10S, 5_000_000, 1_000)));
        }
        // one unit a second: the 1st at 1 s, the 2nd at 2 s, ..., capped at 1 s + one period (10 s)
        assertThat(told.subList(0, 11)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L);
        assertThat(told.subList(11, 20)).allSatisfy(t -> assertThat(t).isEqualTo(11L));
    }

    @Test
    void eachNodeSpacesItsOwnCallersByTheNumberOfNodes() {
        RetrySpread spread = new RetrySpread(() -> 3);
        assertThat(spread.seconds(denied("n", TEN_PER_10S, 7_000_000, 1_000))).isEqualTo(1);
        assertThat(spread.seconds(denied("n", TEN_PER_10S, 7_000_000, 1_000))).isEqualTo(4);
        assertThat(spread.seconds(denied("n", TEN_PER_10S, 7_000_000, 1_000))).isEqualTo(7);
    }

    @Test
    void aSlowLimitSpreadsAtMostAMinuteBeyondTheRetryTime() {
        RetrySpread spread = new RetrySpread(() -> 1);
        Limit hourly = new Limit(Algorithm.TOKEN_BUCKET, 3, 60, 3_600_000);
        assertThat(spread.seconds(denied("h", hourly, 9_000_000, 60_000))).isEqualTo(60);
        assertThat(spread.seconds(denied("h", hourly, 9_000_000, 60_000))).isEqualTo(120);
        assertThat(spread.seconds(denied("h", hourly, 9_000_000, 60_000))).isEqualTo(120);
    }

    @Test
    void concurrencyLimitsAndUnavailableAnswersKeepTheJitterOnly() {
        RetrySpread spread = new RetrySpread(() -> 1);
        Limit leases = new Limit(Algorithm.CONCURRENCY, 10, 10, 60_000);
        for (int i = 0; i < 5; i++) {
            assertThat(spread.seconds(denied("c", leases, 1_000, 10_000))).isBetween(10L, 11L);
        }
    }
}
