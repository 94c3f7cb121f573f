package dev.sluice.core;

/**
 * The outcome of one check.
 *
 * @param allowed whether the cost was admitted (for a look: whether one unit is available)
 * @param limit the capacity in units (a bucket's burst, a window's limit, a concurrency limit)
 * @param remaining whole units left right after the decision, at least 0
 * @param resetMs milliseconds until the allowance is whole again
 * @param retryAfterMs when denied, milliseconds until the cost is available; 0 when allowed
 * @param nowMicros the clock reading the decision was taken at, in epoch microseconds: also what a
 *     refund of this consumption names (see {@link Limit#refund})
 * @param lease for an admitted {@code concurrency} check, the lease's token; otherwise {@code null}
 */
public record Decision(
        boolean allowed, long limit, long remaining, long resetMs, long retryAfterMs, long nowMicros, String lease) {

    /** A decision that holds no lease. */
    public Decision(boolean allowed, long limit, long remaining, long resetMs, long retryAfterMs, long nowMicros) {
        this(allowed, limit, remaining, resetMs, retryAfterMs, nowMicros, null);
    }

    /** The clock reading in epoch milliseconds. */
    public long nowMs() {
        return Math.floorDiv(nowMicros, 1000L);
    }

    /** Whole seconds until whole again, rounded up. */
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
