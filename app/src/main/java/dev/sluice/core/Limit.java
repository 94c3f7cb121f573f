package dev.sluice.core;

/**
 * A token bucket's shape: {@code burst} tokens of capacity, refilled at {@code limit} tokens per
 * {@code periodMs} milliseconds.
 *
 * <p>Decisions are computed on integers scaled by the period (see {@link TokenBucket}); to keep
 * them exact in Redis's Lua, whose numbers are doubles, {@code burst * periodMs} must stay at or
 * below {@link #MAX_SCALED} (2^52). For a one-day period that is a burst of about 52 million.
 * Violations throw {@link IllegalArgumentException} with a message {@code "<field>: <rule>"}.
 */
public record Limit(long burst, long limit, long periodMs) {
    /** The largest {@code burst * periodMs} accepted: 2^52. */
    public static final long MAX_SCALED = 1L << 52;

    public Limit {
        if (limit < 1) {
            throw new IllegalArgumentException("limit: must be at least 1 (was " + limit + ")");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst: must be at least 1 (was " + burst + ")");
        }
        if (periodMs < 1) {
            throw new IllegalArgumentException("period: must be at least 1ms (was " + periodMs + "ms)");
        }
        if (burst > MAX_SCALED / periodMs) {
            throw new IllegalArgumentException("burst: burst * period must be at most 2^52 token-milliseconds (burst "
                    + burst + ", period " + periodMs + "ms): lower the burst or the period");
        }
        if (limit > MAX_SCALED / periodMs) {
            throw new IllegalArgumentException("limit: limit * period must be at most 2^52 token-milliseconds (limit "
                    + limit + ", period " + periodMs + "ms): lower the limit or the period");
        }
    }

    /** The bucket's capacity in scaled units: {@code burst * periodMs}. */
    public long capacity() {
        return burst * periodMs;
    }
}
