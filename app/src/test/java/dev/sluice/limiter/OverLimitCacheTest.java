package dev.sluice.limiter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.ManualClock;
import dev.sluice.store.Subject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A kept denial, moved forward on a clock the test drives: the instants it names (the window's end,
 * the retry time) are the store's, whatever time has passed, and it stops answering before its retry
 * time.
 */
class OverLimitCacheTest {
    private static final Limit FIXED_10_PER_MINUTE = new Limit(Algorithm.FIXED_WINDOW, 10, 10, 60_000);
    private static final Subject ALICE = new Subject("api", "alice");

    /** Redis's reading: 250 µs past a whole millisecond; the window ends 20 s later, on a whole second. */
    private static final long STORE_NOW_MICROS = 1_800_000_000_000_250L;

    private static final Decision DENIAL = new Decision(false, 10, 0, 20_000, 20_000, STORE_NOW_MICROS);

    private final ManualClock clock = new ManualClock(STORE_NOW_MICROS);
    private final OverLimitCache cache = new OverLimitCache(100, Duration.ofHours(1), clock);

    private static long resetEpochSeconds(Decision d) {
        return Math.ceilDiv(d.nowMs() + d.resetMs(), 1000L); // X-RateLimit-Reset
    }

    @Test
    void aKeptDenialNamesTheStoresWindowEndHoweverTheMillisecondsFall() {
        cache.keep(ALICE, FIXED_10_PER_MINUTE, 1, DENIAL, cache.epoch(), clock.nanoTime());
        long expected = resetEpochSeconds(DENIAL);
        for (long step : new long[] {300, 450, 1, 999, 7_321, 1_000_000, 12_345_678}) {
            clock.advanceMicros(step);
            Decision d = cache.answer(ALICE, FIXED_10_PER_MINUTE, 1);
            assertThat(d).as("answered after %d µs more", step).isNotNull();
            assertThat(d.allowed()).isFalse();
            assertThat(d.remaining()).isZero();
            assertThat(resetEpochSeconds(d)).isEqualTo(expected);
            assertThat(d.nowMs() + d.retryAfterMs()).isEqualTo(DENIAL.nowMs() + DENIAL.retryAfterMs());
        }
    }

    @Test
    void aKeptDenialStopsAnsweringJustBeforeItsRetryTime() {
        cache.keep(ALICE, FIXED_10_PER_MINUTE, 1, DENIAL, cache.epoch(), clock.nanoTime());
        clock.advanceMicros(20_000_000 - OverLimitCache.MARGIN_MICROS - 1);
        assertThat(cache.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNotNull();
        clock.advanceMicros(1);
        assertThat(cache.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNull();
    }

    @Test
    void onlyACostOneCheckUnderTheSameLimitIsAnswered() {
        cache.keep(ALICE, FIXED_10_PER_MINUTE, 1, DENIAL, cache.epoch(), clock.nanoTime());
        assertThat(cache.answer(ALICE, FIXED_10_PER_MINUTE, 2)).isNull();
        assertThat(cache.answer(ALICE, new Limit(Algorithm.FIXED_WINDOW, 20, 20, 60_000), 1))
                .isNull();
        assertThat(cache.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNotNull();
    }

    @Test
    void aDenialWhoseCallRacedAnInvalidationIsNotKept() {
        long epoch = cache.epoch();
        cache.invalidate(ALICE); // a reset while the call was in flight
        cache.keep(ALICE, FIXED_10_PER_MINUTE, 1, DENIAL, epoch, clock.nanoTime());
        assertThat(cache.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNull();
    }

    @Test
    void noDenialIsKeptLongerThanMaxKeepWhateverItsRetryTime() {
        OverLimitCache capped = new OverLimitCache(100, Duration.ofSeconds(1), clock);
        long callStart = clock.nanoTime();
        clock.advanceMicros(300); // the store's answer arrives 300 µs after the call was made
        capped.keep(ALICE, FIXED_10_PER_MINUTE, 1, DENIAL, capped.epoch(), callStart);
        clock.advanceMicros(1_000_000 - 300 - 1);
        assertThat(capped.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNotNull();
        clock.advanceMicros(1); // one second after the call: asked again, though the retry time is 19 s away
        assertThat(capped.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNull();
    }

    @Test
    void forgetAllEndsEveryKeptDenialAndOneInFlight() {
        Subject bob = new Subject("api", "bob");
        cache.keep(ALICE, FIXED_10_PER_MINUTE, 1, DENIAL, cache.epoch(), clock.nanoTime());
        long epoch = cache.epoch(); // bob's call starts before the gap is noticed
        cache.forgetAll();
        cache.keep(bob, FIXED_10_PER_MINUTE, 1, DENIAL, epoch, clock.nanoTime());
        assertThat(cache.answer(ALICE, FIXED_10_PER_MINUTE, 1)).isNull();
        assertThat(cache.answer(bob, FIXED_10_PER_MINUTE, 1)).isNull();
    }
}
