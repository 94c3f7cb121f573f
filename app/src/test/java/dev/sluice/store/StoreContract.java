package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

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
public abstract class StoreContract {
    private static final Limit TEN_PER_SECOND = new Limit(10, 10, 1_000);

    protected abstract RateLimitStore store();

    private static Subject fresh() {
        return new Subject("contract", "k-" + UUID.randomUUID());
    }

    private Decision at(Subject s, Limit l, long cost, long nowMs) {
        return store().acquireAt(s, l, cost, nowMs * 1000).toCompletableFuture().join();
    }

    @Test
    void aFreshSubjectHasItsFullBurst() {
        Decision d = at(fresh(), TEN_PER_SECOND, 0, 1_000);
        assertThat(d).isEqualTo(new Decision(true, 10, 10, 0, 0, 1_000));
    }

    @Test
    void takesUntilEmptyThenDeniesWithRetryTime() {
        Subject s = fresh();
        assertThat(at(s, TEN_PER_SECOND, 10, 1_000).allowed()).isTrue();
        Decision denied = at(s, TEN_PER_SECOND, 1, 1_000);
        assertThat(denied).isEqualTo(new Decision(false, 10, 0, 1_000, 100, 1_000));
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
        Limit fivePerSecond = new Limit(dev.sluice.core.Algorithm.FIXED_WINDOW, 5, 5, 1_000);
        Subject s = fresh();
        assertThat(at(s, fivePerSecond, 5, 10_100)).isEqualTo(new Decision(true, 5, 0, 900, 0, 10_100));
        assertThat(at(s, fivePerSecond, 1, 10_999)).isEqualTo(new Decision(false, 5, 0, 1, 1, 10_999));
        assertThat(at(s, fivePerSecond, 5, 11_000).allowed()).isTrue();
        // a token bucket of the same subject is separate state
        assertThat(at(s, TEN_PER_SECOND, 0, 11_000).remaining()).isEqualTo(10);
        store().reset(s).toCompletableFuture().join();
        assertThat(at(s, fivePerSecond, 0, 11_000).remaining()).isEqualTo(5);
    }

    @Test
    void aSlidingWindowCounterWeighsThePreviousWindow() {
        Limit tenPerSecond = new Limit(dev.sluice.core.Algorithm.SLIDING_WINDOW_COUNTER, 10, 10, 1_000);
        Subject s = fresh();
        assertThat(at(s, tenPerSecond, 10, 10_900).allowed()).isTrue();
        assertThat(at(s, tenPerSecond, 1, 11_050).allowed()).isFalse();
        assertThat(at(s, tenPerSecond, 0, 11_250).remaining()).isEqualTo(2);
        assertThat(at(s, tenPerSecond, 2, 11_250).allowed()).isTrue();
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
}
