package dev.sluice.core;

/**
 * The outcome of one check.
 *
 * @param allowed whether the cost was admitted (for a look: whether one unit is available)
 * @param limit the bucket's capacity in units (its burst)
 * @param remaining whole units left right after the decision, at least 0
 * @param resetMs milliseconds until the bucket is full again
 * @param retryAfterMs when denied, milliseconds until the cost is available; 0 when allowed
 * @param nowMs the clock reading the decision was taken at, in epoch milliseconds
 */
public record Decision(boolean allowed, long limit, long remaining, long resetMs, long retryAfterMs, long nowMs) {

    /** Whole seconds until full, rounded up. */
    public long resetSeconds() {
        return ceilSeconds(resetMs);
    }

    /** Whole seconds until the cost is available, rounded up and at least 1 when denied; 0 when allowed. */
    public long retryAfterSeconds() {
        return allowed ? 0 : Math.max(1, ceilSeconds(retryAfterMs));
    }

    private static long ceilSeconds(long ms) {
        return Math.ceilDiv(ms, 1000L);
    }
}
