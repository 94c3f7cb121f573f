package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The store calls' time budget: what a caller sees when a call is slow, fast, or fails. */
class CallBudgetTest {

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
