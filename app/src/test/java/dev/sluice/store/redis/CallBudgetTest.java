package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.store.StoreTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The store calls' time budget: what a caller sees when a call is slow, fast, or fails; and, with a
 * probe, that a late call is waited for while its node answers pings, and given up on when it does
 * not.
 */
class CallBudgetTest {

    /** A probe whose pings the test answers (or not), one node per key. */
    static final class ScriptedProbe implements StoreProbe {
        final java.util.concurrent.ConcurrentLinkedQueue<CompletableFuture<Void>> pings =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        final java.util.concurrent.atomic.AtomicInteger verdicts = new java.util.concurrent.atomic.AtomicInteger();
        volatile boolean answers = true;

        @Override
        public Object nodeFor(byte[] key) {
            return new String(key, java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public CompletionStage<?> ping(Object node, java.util.function.LongConsumer sent) {
            sent.accept(System.nanoTime());
            CompletableFuture<Void> ping = new CompletableFuture<>();
            pings.add(ping);
            if (answers) {
                ping.complete(null);
            }
            return ping;
        }

        @Override
        public void afterReads(Object node, Runnable verdict) {
            verdicts.incrementAndGet();
            verdict.run();
        }
    }

    private static CallBudget probed(ScriptedProbe probe, long capMillis) {
        return new CallBudget(Duration.ofMillis(10), Duration.ofMillis(capMillis), Duration.ofMillis(20), probe);
    }

    @Test
    void aLateCallIsWaitedForWhileItsNodeAnswersPings() throws Exception {
        ScriptedProbe probe = new ScriptedProbe();
        try (CallBudget budget = probed(probe, 2_000)) {
            CompletableFuture<String> queued = new CompletableFuture<>();
            CompletionStage<String> bounded = budget.bound(queued, "node-a");
            Thread.sleep(300); // 30 budgets: late all along, but the node answers every ping
            assertThat(bounded.toCompletableFuture()).isNotDone();
            assertThat(probe.pings)
                    .as("pinged about once a budget while late, not once per sweep")
                    .hasSizeBetween(2, 40);
            queued.complete("decided late");
            assertThat(bounded.toCompletableFuture().get(1, TimeUnit.SECONDS)).isEqualTo("decided late");
        }
    }

    @Test
    void aLateCallWhoseNodeDoesNotAnswerFailsAfterBudgetAndProbeTimeout() throws Exception {
        ScriptedProbe probe = new ScriptedProbe();
        probe.answers = false;
        try (CallBudget budget = probed(probe, 2_000)) {
            long start = System.nanoTime();
            CompletableFuture<String> stuck = new CompletableFuture<>();
            CompletionStage<String> bounded = budget.bound(stuck, "node-a");
            assertThatThrownBy(() -> bounded.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreTimeoutException.class);
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(tookMs).as("budget 10 + probe timeout 20").isBetween(28L, 500L);
            assertThat(probe.verdicts).hasValue(1);
            StoreTimeoutException e = (StoreTimeoutException) bounded.toCompletableFuture()
                    .handle((v, error) -> error instanceof CompletionException ? error.getCause() : error)
                    .join();
            assertThat(e.reason()).isEqualTo(StoreTimeoutException.Reason.SICK);
            assertThat(e.late()).isSameAs(stuck); // the caller can settle what the store answers later
            // the node is known sick: the next late call to it fails at its budget, without a new wait
            long next = System.nanoTime();
            CompletionStage<String> again = budget.bound(new CompletableFuture<>(), "node-a");
            assertThatThrownBy(() -> again.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreTimeoutException.class);
            assertThat((System.nanoTime() - next) / 1_000_000).isBetween(9L, 25L);
            // a call to another node is judged on its own
            CompletableFuture<String> other = new CompletableFuture<>();
            probe.answers = true;
            CompletionStage<String> elsewhere = budget.bound(other, "node-b");
            Thread.sleep(60);
            assertThat(elsewhere.toCompletableFuture()).isNotDone();
            other.complete("ok");
            assertThat(elsewhere.toCompletableFuture().join()).isEqualTo("ok");
        }
    }

    @Test
    void aPingThatIsLateWhileLateCallsAreAnsweredIsProgressNotSickness() throws Exception {
        ScriptedProbe probe = new ScriptedProbe();
        probe.answers = false; // the pings are slow (a short CPU) ...
        try (CallBudget budget = probed(probe, 2_000)) {
            List<CompletableFuture<String>> calls = new java.util.ArrayList<>();
            List<CompletionStage<String>> bounded = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) {
                CompletableFuture<String> call = new CompletableFuture<>();
                calls.add(call);
                bounded.add(budget.bound(call, "node-a"));
            }
            Thread.sleep(12); // all late now; a ping is out
            for (int i = 0; i < 40; i++) { // ... but the queue drains: one answer every millisecond
                calls.get(i).complete("answer " + i);
                Thread.sleep(1);
            }
            for (int i = 0; i < 40; i++) {
                assertThat(bounded.get(i).toCompletableFuture().get(1, TimeUnit.SECONDS))
                        .isEqualTo("answer " + i);
            }
        }
    }

    @Test
    void noCallWaitsPastTheCap() {
        ScriptedProbe probe = new ScriptedProbe();
        try (CallBudget budget = probed(probe, 100)) {
            long start = System.nanoTime();
            CompletionStage<String> bounded = budget.bound(new CompletableFuture<>(), "node-a");
            assertThatThrownBy(() -> bounded.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreTimeoutException.class);
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(95L, 400L);
        }
    }

    @Test
    void aCallMadeWhileTheSweeperSleepsForASickNodesPingStillFailsAtItsBudget() throws Exception {
        ScriptedProbe probe = new ScriptedProbe();
        probe.answers = false;
        try (CallBudget budget = probed(probe, 2_000)) {
            CompletionStage<String> first = budget.bound(new CompletableFuture<>(), "node-a");
            assertThatThrownBy(() -> first.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreTimeoutException.class);
            // the sweeper now sleeps until the sick node's next ping (100 ms); a new call must wake it
            Thread.sleep(5);
            long start = System.nanoTime();
            CompletionStage<String> second = budget.bound(new CompletableFuture<>(), "node-a");
            assertThatThrownBy(() -> second.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreTimeoutException.class);
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(9L, 40L);
        }
    }

    @Test
    void aSickNodeThatAnswersItsPingsAgainIsWaitedForAgain() throws Exception {
        ScriptedProbe probe = new ScriptedProbe();
        probe.answers = false;
        try (CallBudget budget = probed(probe, 2_000)) {
            CompletionStage<String> first = budget.bound(new CompletableFuture<>(), "node-a");
            assertThatThrownBy(() -> first.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreTimeoutException.class);
            probe.answers = true;
            Thread.sleep(250); // the sick node is pinged every 100 ms: it answers now
            CompletableFuture<String> call = new CompletableFuture<>();
            CompletionStage<String> bounded = budget.bound(call, "node-a");
            Thread.sleep(80);
            assertThat(bounded.toCompletableFuture()).isNotDone();
            call.complete("back");
            assertThat(bounded.toCompletableFuture().join()).isEqualTo("back");
        }
    }

    @Test
    void aCallThatOutlivesTheBudgetFailsWithATimeout() throws Exception {
        try (CallBudget budget = new CallBudget(Duration.ofMillis(20))) {
            CompletableFuture<String> never = new CompletableFuture<>();
            CompletionStage<String> bounded = budget.bound(never);
            assertThatThrownBy(() -> bounded.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(TimeoutException.class);
            // the call itself is left alone: it may still finish (or time out in Lettuce)
            assertThat(never).isNotDone();
        }
    }

    @Test
    void aCallWithinTheBudgetKeepsItsValueAfterTheDeadlinePasses() throws Exception {
        try (CallBudget budget = new CallBudget(Duration.ofMillis(20))) {
            CompletableFuture<String> call = new CompletableFuture<>();
            CompletionStage<String> bounded = budget.bound(call);
            call.complete("decided");
            Thread.sleep(100); // past the deadline: a cancelled deadline must not fail the stage
            assertThat(bounded.toCompletableFuture().getNow("pending")).isEqualTo("decided");
            assertThat(bounded.toCompletableFuture().isCompletedExceptionally()).isFalse();
        }
    }

    @Test
    void aFailedCallArrivesWrappedAsCopyWouldWrapIt() {
        try (CallBudget budget = new CallBudget(Duration.ofMillis(50))) {
            IllegalStateException boom = new IllegalStateException("connection closed");
            CompletionStage<String> bounded = budget.bound(CompletableFuture.failedFuture(boom));
            assertThat(bounded.toCompletableFuture().isCompletedExceptionally()).isTrue();
            bounded.toCompletableFuture()
                    .handle((v, e) -> {
                        assertThat(e).isInstanceOf(CompletionException.class).hasCause(boom);
                        return null;
                    })
                    .join();
        }
    }

    @Test
    void manyCallsEachGetTheirOwnDeadline() throws Exception {
        try (CallBudget budget = new CallBudget(Duration.ofMillis(30))) {
            CompletableFuture<?>[] bounded = new CompletableFuture<?>[1000];
            for (int i = 0; i < bounded.length; i++) {
                CompletableFuture<Integer> call = new CompletableFuture<>();
                bounded[i] = budget.bound(call).toCompletableFuture();
                if (i % 2 == 0) {
                    call.complete(i); // the even ones answer at once, the odd ones never
                }
            }
            CompletableFuture.allOf(bounded).exceptionally(e -> null).get(5, TimeUnit.SECONDS);
            for (int i = 0; i < bounded.length; i++) {
                assertThat(bounded[i].isCompletedExceptionally())
                        .as("call %d", i)
                        .isEqualTo(i % 2 == 1);
            }
        }
    }

    @Test
    void aCallMadeAfterTheSweeperWentIdleStillTimesOut() throws Exception {
        try (CallBudget budget = new CallBudget(Duration.ofMillis(20))) {
            CompletableFuture<String> quick = new CompletableFuture<>();
            budget.bound(quick);
            quick.complete("done");
            Thread.sleep(100); // nothing left to wait for: the sweeper parks until a call wakes it
            CompletionStage<String> slow = budget.bound(new CompletableFuture<>());
            assertThatThrownBy(() -> slow.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(TimeoutException.class);
        }
    }

    @Test
    void aSlowCallDoesNotHoldBackTheDeadlineOfTheNext() throws Exception {
        try (CallBudget budget = new CallBudget(Duration.ofMillis(200))) {
            CompletableFuture<String> first = new CompletableFuture<>();
            CompletionStage<String> firstBounded = budget.bound(first);
            Thread.sleep(50);
            CompletionStage<String> second = budget.bound(new CompletableFuture<>());
            first.complete("answered"); // the oldest finishes; the one behind it must still time out
            assertThatThrownBy(() -> second.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(TimeoutException.class);
            assertThat(firstBounded.toCompletableFuture().join()).isEqualTo("answered");
        }
    }

    @Test
    void noBudgetOrAStoppedTimerLeavesTheCallAsItIs() {
        CompletableFuture<String> call = new CompletableFuture<>();
        try (CallBudget none = new CallBudget(Duration.ZERO)) {
            assertThat(none.bound(call)).isSameAs(call);
            assertThat(none.millis()).isZero();
        }
        CallBudget stopped = new CallBudget(Duration.ofMillis(10));
        stopped.bound(new CompletableFuture<>()); // starts the sweeper
        stopped.close();
        assertThat(stopped.bound(call)).isSameAs(call);
    }
}
