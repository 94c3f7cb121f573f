package dev.sluice.store;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a node does with its store besides deciding: warm it up before taking traffic, and tell it
 * that the node is alive. Never guarded by the circuit breaker — neither is a decision, and their
 * outcomes must not move it. A store of one node (the in-process store) takes the defaults.
 */
public interface StoreUpkeep {
    /**
     * Records that service node {@code node} is alive (or, {@code leaving}, that it stops) and
     * answers how many nodes share this store: those heard from within {@code ttlMs}. The
     * {@code local} failure mode divides limits by this count. A store of one node answers 1.
     */
    default CompletionStage<Long> heartbeat(String node, long ttlMs, boolean leaving) {
        return CompletableFuture.completedFuture(1L);
    }

    /**
     * Prepares for the first checks before the node takes traffic, so that they meet the time budget:
     * connects, has the store cache the scripts, and runs the decision path a few times (looks
     * only, which write nothing). Completes when done; a failure is not fatal.
     */
    default CompletionStage<Void> warmUp() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Whether decisions leave the process, and so can fail, time out and be decided by the failure
     * modes. The in-process store cannot: a node on it never runs the degraded path, and its start
     * need not rehearse it ({@code NodeWarmUp}).
     */
    default boolean remote() {
        return true;
    }

    /** A short name for logs and metrics: {@code in-process}, {@code redis}, {@code redis-cluster}. */
    String kind();
}
