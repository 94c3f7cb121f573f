package dev.sluice.store.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * How long a store call may take before its caller stops waiting ({@code
 * limiter.redis.command-timeout}, 10 ms by default): past it the call's stage fails with a {@link
 * TimeoutException} and the policy's failure mode decides. The command itself is left to finish or
 * to time out in Lettuce, whose own timeout fires on a 100 ms timer wheel (too coarse for this).
 *
 * <p>Every call of a store has the same budget, so deadlines come due in the order the calls were
 * made: they wait in one lock-free FIFO queue, and one daemon thread ({@code sluice-store-budget})
 * sleeps until the oldest unfinished call's deadline, fails it if it is still running, and drops
 * the finished ones on its way. Registering a call is one queue insert; finishing it costs nothing
 * here; the thread wakes about once per budget under load and not at all when no call is waiting.
 *
 * <p>Why not the alternatives (measured, docs/benchmarks.md): {@code CompletableFuture.orTimeout}
 * schedules every call on JDK 25's common-pool delay scheduler, whose thread is woken for each
 * schedule and cancel — 14,000 context switches a second at 21,000 checks a second, 11 % of the
 * service's CPU, and 52–54 instead of 37–46 µs of the JVM's CPU per check by API key; Netty's
 * {@code HashedWheelTimer} (1 ms ticks) is as cheap under load but ticks a thousand times a second
 * forever once started: 2.8 % instead of 0.7 % of a core on an idle node.
 */
public final class CallBudget implements AutoCloseable {
    private final long nanos;
    private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
    private volatile Thread sweeper;
    /** Set by the sweeper before it parks with nothing to wait for: a new call must wake it. */
    private volatile boolean idle;

    private volatile boolean closed;

    private record Pending(long deadline, CompletableFuture<?> bounded) {}

    /** No budget: every call is returned as it is (and no thread is ever started). */
    public static final CallBudget NONE = new CallBudget(Duration.ZERO);

    /** @param budget the time a call may take; zero or negative for none (calls are returned as they are) */
    public CallBudget(Duration budget) {
        this.nanos = Math.max(0, budget.toNanos());
    }

    /** The budget in milliseconds (0: none). */
    public long millis() {
        return nanos / 1_000_000;
    }

    /**
     * A stage that completes as {@code call} does or, if the budget runs out first, fails with a
     * {@link TimeoutException}. As {@code CompletableFuture.copy()}: a failed call's error arrives
     * wrapped in a {@link CompletionException}. After {@link #close} (the service stopping), calls
     * are returned without a budget.
     */
    public <T> CompletionStage<T> bound(CompletionStage<T> call) {
        if (nanos == 0 || closed) {
            return call;
        }
        CompletableFuture<T> bounded = new CompletableFuture<>();
        pending.offer(new Pending(System.nanoTime() + nanos, bounded));
        Thread s = sweeper;
        if (s == null) {
            start();
        } else if (idle) {
            LockSupport.unpark(s);
        }
        call.whenComplete((value, error) -> {
            if (error == null) {
                bounded.complete(value);
            } else {
                bounded.completeExceptionally(
                        error instanceof CompletionException ? error : new CompletionException(error));
            }
        });
        return bounded;
    }

    private synchronized void start() {
        if (sweeper == null && !closed) {
            Thread t = new Thread(this::sweep, "sluice-store-budget");
            t.setDaemon(true);
            sweeper = t;
            t.start();
        }
    }

    private void sweep() {
        while (!closed) {
            Pending head = pending.peek();
            if (head == null) {
                idle = true;
                if (pending.isEmpty() && !closed) { // re-read after announcing: a call made meanwhile is seen
                    LockSupport.park(this);
                }
                idle = false;
                continue;
            }
            if (head.bounded().isDone()) {
                pending.poll();
                continue;
            }
            long wait = head.deadline() - System.nanoTime();
            if (wait <= 0) {
                pending.poll();
                head.bounded().completeExceptionally(new TimeoutException());
            } else {
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    /** Stops the sweeper; calls still waiting are no longer timed out. */
    @Override
    public void close() {
        closed = true;
        Thread s = sweeper;
        if (s != null) {
            LockSupport.unpark(s);
        }
    }
}
