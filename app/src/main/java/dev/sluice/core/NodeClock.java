package dev.sluice.core;

import java.time.Instant;

/**
 * This node's clock, injected wherever the service reads the time, so that tests can move it and
 * one place says which clock is which: {@link #nanoTime} for durations (monotonic, never compared
 * across machines), {@link #now} for wall time (epoch; what a decision's {@code nowMicros} and the
 * database's timestamps are). The decisions shared between nodes take Redis's clock, not this one
 * (docs/algorithms.md); this clock decides only the in-process store's buckets and the node's own
 * bookkeeping.
 */
public interface NodeClock {
    /** The JVM's clocks. */
    NodeClock SYSTEM = new NodeClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant now() {
            return Instant.now();
        }
    };

    /** Monotonic nanoseconds, for durations only (as {@link System#nanoTime}). */
    long nanoTime();

    /** The wall clock. */
    Instant now();

    /** The wall clock in epoch microseconds. */
    default long micros() {
        Instant now = now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
