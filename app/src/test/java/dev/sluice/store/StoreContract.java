package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link RateLimitStore} must do, run against the in-process store, a standalone Redis
 * and a Redis Cluster. Each test uses subjects of its own, so no flush is needed between tests.
 */
public abstract class StoreContract<S extends RateLimitStore & PlanStore & ClockedStore> {
    private static final Limit TEN_PER_SECOND = new Limit(10, 10, 1_000);

    protected abstract S store();

    private static Subject fresh() {
        return new Subject("contract", "k-" + UUID.randomUUID());
    }

    private Decision at(Subject s, Limit l, long cost, long nowMs) {
        return store().acquireAt(s, l, cost, nowMs * 1000).toCompletableFuture().join();
    }

    @Test
    void aFreshSubjectHasItsFullBurst() {
        Decision d = at(fresh(), TEN_PER_SECOND, 0, 1_000);
        assertThat(d).isEqualTo(new Decision(true, 10, 10, 0, 0, 1_000_000));
    }

    @Test
    void takesUntilEmptyThenDeniesWithRetryTime() {
        Subject s = fresh();
        assertThat(at(s, TEN_PER_SECOND, 10, 1_000).allowed()).isTrue();
        Decision denied = at(s, TEN_PER_SECOND, 1, 1_000);
        assertThat(denied).isEqualTo(new Decision(false, 10, 0, 1_000, 100, 1_000_000));
        assertThat(at(s, TEN_PER_SECOND, 1, 1_100).allowed()).isTrue();
    }

    @Test
    void aLookConsumesNothing() {
        Subject s = fresh();
        at(s, TEN_PER_SECOND, 4, 1_000);
        for (int i = 0; i < 5; i++) {
            assertThat(at(s, TEN_PER_SECOND, 0, 1_000).remaining()).isEqualTo(6);
        }
    }

    @Test
    void resetRestoresTheFullAllowance() {
        Subject s = fresh();
        at(s, TEN_PER_SECOND, 10, 1_000);
        store().reset(s).toCompletableFuture().join();
        assertThat(at(s, TEN_PER_SECOND, 0, 1_000).remaining()).isEqualTo(10);
    }

    @Test
    void subjectsAreIndependentAlsoWhenKeysLookAlike() {
        List<String> keys = List.of("a:b", "a%3Ab", "{a}", "a}", "{a", "a b", "%7Ba%7D", "ü", "a");
        String run = UUID.randomUUID().toString();
        for (String key : keys) {
            at(new Subject("alike", run + key), TEN_PER_SECOND, 1 + keys.indexOf(key), 1_000);
        }
        for (String key : keys) {
            Decision d = at(new Subject("alike", run + key), TEN_PER_SECOND, 0, 1_000);
            assertThat(d.remaining()).as(key).isEqualTo(10 - 1 - keys.indexOf(key));
        }
    }

    @Test
    void theStoreClockDecidesWhenNoTimeIsGiven() {
        Subject s = fresh();
        long before = System.currentTimeMillis();
        Decision d = store().acquire(s, TEN_PER_SECOND, 1).toCompletableFuture().join();
        assertThat(d.allowed()).isTrue();
        assertThat(d.nowMs()).isBetween(before - 1_000, System.currentTimeMillis() + 1_000);
    }

    @Test
    void aFixedWindowCountsPerWindowAndStartsAfreshAtTheBoundary() {
        Limit fivePerSecond = new Limit(Algorithm.FIXED_WINDOW, 5, 5, 1_000);
        Subject s = fresh();
        assertThat(at(s, fivePerSecond, 5, 10_100)).isEqualTo(new Decision(true, 5, 0, 900, 0, 10_100_000));
        assertThat(at(s, fivePerSecond, 1, 10_999)).isEqualTo(new Decision(false, 5, 0, 1, 1, 10_999_000));
        assertThat(at(s, fivePerSecond, 5, 11_000).allowed()).isTrue();
        // a token bucket of the same subject is separate state
        assertThat(at(s, TEN_PER_SECOND, 0, 11_000).remaining()).isEqualTo(10);
        store().reset(s).toCompletableFuture().join();
        assertThat(at(s, fivePerSecond, 0, 11_000).remaining()).isEqualTo(5);
    }

    @Test
    void aSlidingWindowCounterWeighsThePreviousWindow() {
        Limit tenPerSecond = new Limit(Algorithm.SLIDING_WINDOW_COUNTER, 10, 10, 1_000);
        Subject s = fresh();
        assertThat(at(s, tenPerSecond, 10, 10_900).allowed()).isTrue();
        assertThat(at(s, tenPerSecond, 1, 11_050).allowed()).isFalse();
        assertThat(at(s, tenPerSecond, 0, 11_250).remaining()).isEqualTo(2);
        assertThat(at(s, tenPerSecond, 2, 11_250).allowed()).isTrue();
    }

    @Test
    void aSlidingWindowLogIsExactAtEveryInstant() {
        Limit threePerSecond = new Limit(Algorithm.SLIDING_WINDOW_LOG, 3, 3, 1_000);
        Subject s = fresh();
        assertThat(at(s, threePerSecond, 1, 10_000).allowed()).isTrue();
        assertThat(at(s, threePerSecond, 2, 10_600).allowed()).isTrue();
        Decision denied = at(s, threePerSecond, 1, 10_999);
        assertThat(denied.allowed()).isFalse();
        // the unit admitted at 10.000 s leaves the window at 11.000 s
        assertThat(denied.retryAfterMs()).isEqualTo(1);
        assertThat(at(s, threePerSecond, 1, 11_000).allowed()).isTrue();
        // the two admitted at 10.600 s still count until 11.600 s
        assertThat(at(s, threePerSecond, 1, 11_599).allowed()).isFalse();
        assertThat(at(s, threePerSecond, 2, 11_600).allowed()).isTrue();
    }

    @Test
    void concurrencyLeasesAreHeldReleasedAndExpire() {
        Limit twoAtOnce = new Limit(Algorithm.CONCURRENCY, 2, 2, 30_000);
        Subject s = fresh();
        Decision first = at(s, twoAtOnce, 1, 10_000);
        Decision second = at(s, twoAtOnce, 1, 10_001);
        assertThat(first.allowed()).isTrue();
        assertThat(first.lease()).isNotBlank();
        assertThat(second.lease()).isNotBlank().isNotEqualTo(first.lease());
        Decision third = at(s, twoAtOnce, 1, 10_002);
        assertThat(third.allowed()).isFalse();
        assertThat(third.lease()).isNull();
        assertThat(third.retryAfterMs()).isEqualTo(1_000);
        assertThat(store().release(s, first.lease()).toCompletableFuture().join())
                .isTrue();
        assertThat(store().release(s, first.lease()).toCompletableFuture().join())
                .as("released twice")
                .isFalse();
        assertThat(at(s, twoAtOnce, 1, 10_003).allowed()).isTrue();
        assertThat(at(s, twoAtOnce, 1, 10_004).allowed()).isFalse();
        // never released: the lease taken at 10.001 s expires at 40.001 s
        assertThat(at(s, twoAtOnce, 1, 40_001).allowed()).isTrue();
        assertThat(at(s, twoAtOnce, 0, 40_001).remaining()).isZero();
    }

    @Test
    void aRefundGivesBackWhatAnAdmittedCheckTook() {
        for (Limit limit : new Limit[] {
            new Limit(10, 10, 3_600_000),
            new Limit(Algorithm.GCRA, 10, 10, 3_600_000),
            new Limit(Algorithm.FIXED_WINDOW, 10, 10, 3_600_000),
            new Limit(Algorithm.SLIDING_WINDOW_COUNTER, 10, 10, 3_600_000),
            new Limit(Algorithm.SLIDING_WINDOW_LOG, 10, 10, 3_600_000),
            new Limit(Algorithm.CONCURRENCY, 10, 10, 3_600_000)
        }) {
            Subject s = fresh();
            long cost = limit.algorithm() == Algorithm.CONCURRENCY ? 1 : 4;
            Decision taken =
                    store().acquire(s, limit, cost).toCompletableFuture().join();
            assertThat(taken.remaining()).as(limit.algorithm().value()).isEqualTo(10 - cost);
            store().refund(s, limit, cost, taken).toCompletableFuture().join();
            Decision after = store().acquire(s, limit, 0).toCompletableFuture().join();
            assertThat(after.remaining())
                    .as(limit.algorithm().value() + " after refund")
                    .isEqualTo(10);
        }
    }

    /**
     * A charge (the reconciliation of local usage) is taken whole even beyond what is left, up to
     * one limit of overdraft that later checks wait out; retried under its id after it was taken, as
     * after a time-out whose first attempt did run, it is not counted again; ids are per subject.
     * The overdraft is read back by refunding units one at a time until a look finds one left.
     */
    @Test
    void aChargeIsTakenWholeIntoAnOverdraftAndCountedOncePerId() {
        for (Limit limit : new Limit[] {
            new Limit(10, 10, 3_600_000),
            new Limit(Algorithm.GCRA, 10, 10, 3_600_000),
            new Limit(Algorithm.FIXED_WINDOW, 10, 10, 3_600_000),
            new Limit(Algorithm.SLIDING_WINDOW_COUNTER, 10, 10, 3_600_000),
            new Limit(Algorithm.SLIDING_WINDOW_LOG, 10, 10, 3_600_000)
        }) {
            String name = limit.algorithm().value();
            Subject s = fresh();
            Decision first = charge(s, limit, 4, "c1");
            assertThat(first.allowed()).as(name).isTrue();
            assertThat(first.remaining()).as(name).isEqualTo(6);
            assertThat(charge(s, limit, 4, "c1").remaining())
                    .as(name + " retried: not counted again")
                    .isEqualTo(6);
            Decision over = charge(s, limit, 7, "c2");
            assertThat(over.allowed())
                    .as(name + " more than is left: taken all the same")
                    .isTrue();
            assertThat(over.remaining()).as(name).isZero();
            assertThat(charge(s, limit, 7, "c2").allowed())
                    .as(name + " retried")
                    .isFalse();
            assertThat(store().acquire(s, limit, 1).toCompletableFuture().join().allowed())
                    .as(name + " a check while the overdraft lasts")
                    .isFalse();
            assertThat(overdraft(s, limit, over, 10))
                    .as(name + " 11 taken of 10: an overdraft of 1 (the retry not counted)")
                    .isEqualTo(1);
            Decision capped = charge(s, limit, 30, "c3");
            assertThat(capped.allowed()).as(name).isTrue();
            assertThat(overdraft(s, limit, capped, 30))
                    .as(name + " 9 + 30 taken of 10: the overdraft stops at one limit")
                    .isEqualTo(10);
            Subject other = fresh();
            assertThat(charge(other, limit, 4, "c1").remaining())
                    .as(name + " ids are per subject")
                    .isEqualTo(6);
        }
    }

    private Decision charge(Subject s, Limit limit, long units, String id) {
        return store().charge(s, limit, units, id).toCompletableFuture().join();
    }

    /**
     * How many units beyond the limit the subject owes: units of {@code taken} given back one at a
     * time until a look finds one unit left, minus that one.
     */
    private int overdraft(Subject s, Limit limit, Decision taken, int atMost) {
        for (int given = 1; given <= atMost; given++) {
            store().refund(s, limit, 1, taken).toCompletableFuture().join();
            if (store().acquire(s, limit, 0).toCompletableFuture().join().allowed()) {
                return given - 1;
            }
        }
        return -1;
    }

    /** Atomicity: many concurrent checks of one subject, with no refill, admit exactly the burst. */
    @Test
    void concurrentChecksOfOneSubjectAdmitExactlyTheBurst() throws Exception {
        Limit hundredPerHour = new Limit(100, 100, 3_600_000);
        Subject s = fresh();
        int checks = 250;
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<CompletableFuture<Decision>>> futures = new ArrayList<>();
            for (int i = 0; i < checks; i++) {
                @SuppressWarnings("FutureReturnValueIgnored") // collected in the list, joined below
                boolean added = futures.add(pool.submit(() -> {
                    start.await();
                    return store().acquire(s, hundredPerHour, 1).toCompletableFuture();
                }));
                assertThat(added).isTrue();
            }
            start.countDown();
            int admitted = 0;
            for (Future<CompletableFuture<Decision>> f : futures) {
                if (f.get().join().allowed()) {
                    admitted++;
                }
            }
            System.out.printf("%s: %d concurrent checks, burst 100, admitted %d%n", store().kind(), checks, admitted);
            assertThat(admitted).isEqualTo(100);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPlanCheckTakesRateAndQuotasTogetherAndNothingWhenOneFails() {
        Subject s = fresh();
        Limit rate = new Limit(100, 100, 60_000);
        dev.sluice.core.PlanQuota.Quotas quotas = new dev.sluice.core.PlanQuota.Quotas(3, 60_000, 10, 600_000);
        for (int i = 1; i <= 3; i++) {
            dev.sluice.core.PlanQuota.Result r = plan(s, rate, "2026-11-01", "2026-11", quotas);
            assertThat(r.bucket().allowed()).isTrue();
            assertThat(r.dayUsed()).isEqualTo(i);
            assertThat(r.monthUsed()).isEqualTo(i);
        }
        dev.sluice.core.PlanQuota.Result denied = plan(s, rate, "2026-11-01", "2026-11", quotas);
        assertThat(denied.bucket().allowed()).isFalse();
        assertThat(denied.violated()).isEqualTo(dev.sluice.core.PlanQuota.Violation.DAILY);
        assertThat(denied.bucket().retryAfterMs()).isEqualTo(60_000);
        assertThat(denied.bucket().remaining()).as("the denial took no token").isBetween(97L, 100L);
        // a new day: its own counter; the month's goes on
        dev.sluice.core.PlanQuota.Result nextDay = store().acquirePlan(s, rate, 2, "2026-11-02", "2026-11", quotas)
                .toCompletableFuture()
                .join();
        assertThat(nextDay.bucket().allowed()).isTrue();
        assertThat(nextDay.dayUsed()).isEqualTo(2);
        assertThat(nextDay.monthUsed()).isEqualTo(5);
    }

    @Test
    void aPlanResetZeroesTheCountersItNamesAndRefillsTheBucket() {
        Subject s = fresh();
        Limit rate = new Limit(5, 5, 60_000);
        dev.sluice.core.PlanQuota.Quotas quotas = new dev.sluice.core.PlanQuota.Quotas(4, 60_000, 10, 600_000);
        for (int i = 0; i < 4; i++) {
            plan(s, rate, "2026-11-01", "2026-11", quotas);
        }
        // the day's counter only: the month and the bucket keep what they hold
        long[] before = store().resetPlan(s, "2026-11-01", "2026-11", false, true, false)
                .toCompletableFuture()
                .join();
        assertThat(before).containsExactly(4, -1);
        dev.sluice.core.PlanQuota.Result r = plan(s, rate, "2026-11-01", "2026-11", quotas);
        assertThat(r.bucket().allowed()).isTrue();
        assertThat(r.dayUsed())
                .as("the day starts again from 0, not from a seed")
                .isEqualTo(1);
        assertThat(r.monthUsed()).isEqualTo(5);
        assertThat(r.bucket().remaining())
                .as("4 + 1 taken, bucket not refilled")
                .isZero();
        // everything: a full bucket, both counters back to 0
        before = store().resetPlan(s, "2026-11-01", "2026-11", true, true, true)
                .toCompletableFuture()
                .join();
        assertThat(before).containsExactly(1, 5);
        dev.sluice.core.PlanQuota.Quotas seeded = new dev.sluice.core.PlanQuota.Quotas(4, 60_000, 10, 600_000, 3, 3);
        r = plan(s, rate, "2026-11-01", "2026-11", seeded);
        assertThat(r.bucket().remaining()).isEqualTo(4);
        assertThat(r.dayUsed())
                .as("a reset counter exists (0): the ledger's seed does not apply")
                .isEqualTo(1);
        assertThat(r.monthUsed()).isEqualTo(1);
        // a counter that was never there stays missing: the next check seeds it
        before = store().resetPlan(s, "2027-09-09", "2027-09", false, true, true)
                .toCompletableFuture()
                .join();
        assertThat(before).containsExactly(-1, -1);
        r = plan(s, rate, "2027-09-09", "2027-09", seeded);
        assertThat(r.dayUsed()).isEqualTo(4);
        assertThat(r.monthUsed()).isEqualTo(4);
    }

    @Test
    void aPlansBucketCarriesIntoTheNextMonth() {
        Subject s = fresh();
        // burst 3 at 3/min, spent on a month's last day; no quotas
        Limit rate = new Limit(3, 3, 60_000);
        dev.sluice.core.PlanQuota.Quotas quotas = new dev.sluice.core.PlanQuota.Quotas(0, 60_000, 0, 600_000);
        for (int i = 0; i < 3; i++) {
            assertThat(plan(s, rate, "2026-11-30", "2026-11", quotas).bucket().allowed())
                    .isTrue();
        }
        // the next month's first checks find the same empty bucket: denied by the rate, no fresh burst
        for (int i = 0; i < 2; i++) {
            dev.sluice.core.PlanQuota.Result r = plan(s, rate, "2026-12-01", "2026-12", quotas);
            assertThat(r.bucket().allowed())
                    .as("check %d of the new month", i + 1)
                    .isFalse();
            assertThat(r.violated()).isEqualTo(dev.sluice.core.PlanQuota.Violation.RATE);
        }
        // and the month after still finds it, though December never admitted a check
        assertThat(plan(s, rate, "2027-01-01", "2027-01", quotas).bucket().allowed())
                .isFalse();
        // a reset of the rate refills it, whichever month holds it
        store().resetPlan(s, "2027-01-01", "2027-01", true, false, false)
                .toCompletableFuture()
                .join();
        assertThat(plan(s, rate, "2027-01-01", "2027-01", quotas).bucket().remaining())
                .isEqualTo(2);
    }

    private dev.sluice.core.PlanQuota.Result plan(
            Subject s, Limit rate, String dayId, String monthId, dev.sluice.core.PlanQuota.Quotas quotas) {
        return store().acquirePlan(s, rate, 1, dayId, monthId, quotas)
                .toCompletableFuture()
                .join();
    }
}
