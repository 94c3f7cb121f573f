package dev.sluice.store.redis;

import java.util.concurrent.CompletionStage;
import java.util.function.LongConsumer;

/**
 * Asks a store node whether it answers promptly on its own, outside the queue of the calls being
 * judged: {@link CallBudget} pings the node that serves a late call, on a connection (and an event
 * loop) of the probe's own, and so tells a busy node or a busy store (the ping answers at once while
 * the call waits behind others) from a store that is down, blackholed or slow for everyone (the ping
 * is as late as the call).
 */
public interface StoreProbe extends AutoCloseable {
    /** The node that serves {@code key} (a cluster: the master of its slot); compared with equals. */
    Object nodeFor(byte[] key);

    /**
     * One PING of {@code node} on the probe's own connection; completes when it answers (a failure
     * or an error answer completes it exceptionally). {@code sent} is told, once, the {@link
     * System#nanoTime} at which the ping was written.
     */
    CompletionStage<?> ping(Object node, LongConsumer sent);

    /**
     * Runs {@code verdict} once the probe has read every answer that had reached this host when it
     * was called (on the probe's I/O thread, after a pass over its connections), so that a ping
     * answered in time but not yet read by a busy CPU is not taken for a missing answer. By default
     * at once.
     */
    default void afterReads(Object node, Runnable verdict) {
        verdict.run();
    }

    /** Connects to every node and pings it once, so that a first ping does not pay the connect. */
    default CompletionStage<Void> warmUp() {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    /** Closes the probe's connections and stops its thread. */
    @Override
    default void close() {}

    /** A probe that never answers: with a probe timeout of 0, every late call fails at its budget (a plain deadline). */
    StoreProbe NONE = new StoreProbe() {
        @Override
        public Object nodeFor(byte[] key) {
            return "none";
        }

        @Override
        public CompletionStage<?> ping(Object node, LongConsumer sent) {
            sent.accept(System.nanoTime());
            return new java.util.concurrent.CompletableFuture<>();
        }
    };
}
