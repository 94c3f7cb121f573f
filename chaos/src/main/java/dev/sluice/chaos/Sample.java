package dev.sluice.chaos;

/**
 * One check sent during a run: when it started and ended (System.nanoTime), for which failure
 * mode, and what came back ({@code status} -1: no answer at all).
 */
record Sample(long startNanos, long endNanos, String mode, String key, int status, boolean degraded) {
    long millis() {
        return (endNanos - startNanos) / 1_000_000;
    }

    double millisExact() {
        return (endNanos - startNanos) / 1e6;
    }
}
