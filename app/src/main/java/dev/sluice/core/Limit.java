package dev.sluice.core;

/**
 * A policy's shape: its {@link Algorithm} and, for a token bucket, {@code burst} tokens of capacity
 * refilled at {@code limit} tokens per {@code periodMs} milliseconds; for a window algorithm,
 * {@code limit} units per window of {@code periodMs} ({@code burst} then equals {@code limit}); for
 * {@code concurrency}, {@code limit} leases held at once, each expiring {@code periodMs} after it
 * was taken.
 *
 * <p>Decisions are computed on integers in microseconds (see {@link TokenBucket}); to keep them
 * exact in Redis's Lua, whose numbers are doubles, {@code burst * period} in token-microseconds must
 * stay at or below {@link #MAX_SCALED} (2^52, about 4.5e15): a burst of up to 75 million for a
 * one-minute period, 1.25 million for an hour, 52,124 for a day. Violations throw {@link
 * IllegalArgumentException} with a message {@code "<field>: <rule>"}.
 */
public record Limit(Algorithm algorithm, long burst, long limit, long periodMs) {
    /** The largest {@code burst * period} in token-microseconds: 2^52. */
    public static final long MAX_SCALED = 1L << 52;

    /** A token bucket. */
    public Limit(long burst, long limit, long periodMs) {
        this(Algorithm.TOKEN_BUCKET, burst, limit, periodMs);
    }

    public Limit {
        if (algorithm == null) {
            throw new IllegalArgumentException("algorithm: is required (" + Algorithm.names() + ")");
        }
        if (!algorithm.hasBurst() && burst != limit) {
            throw new IllegalArgumentException("burst: applies to token-bucket and gcra only; a " + algorithm.value()
                    + " admits `limit` per period (was burst " + burst + ", limit " + limit + ")");
        }
        if (algorithm == Algorithm.SLIDING_WINDOW_LOG && limit > SlidingWindowLog.MAX_LIMIT) {
            throw new IllegalArgumentException("limit: a sliding-window-log keeps one entry per unit, so its limit is"
                    + " at most " + SlidingWindowLog.MAX_LIMIT + " (was " + limit
                    + "); use sliding-window-counter for large limits");
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit: must be at least 1 (was " + limit + ")");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst: must be at least 1 (was " + burst + ")");
        }
        if (periodMs < 1) {
            throw new IllegalArgumentException("period: must be at least 1ms (was " + periodMs + "ms)");
        }
        if (limit > MAX_SCALED) {
            throw new IllegalArgumentException("limit: must be at most 2^52 (was " + limit + ")");
        }
        if (periodMs > MAX_SCALED / 1000) {
            // named as the period: "burst: must be at most 0" blamed the wrong field (found black-box)
            throw new IllegalArgumentException("period: must be at most " + MAX_SCALED / 1000 / 86_400_000L
                    + "d (2^52 microseconds; was " + periodMs + "ms)");
        }
        if (burst > MAX_SCALED / (periodMs * 1000)) {
            throw new IllegalArgumentException("burst: must be at most " + MAX_SCALED / (periodMs * 1000)
                    + " for a period of " + periodMs + "ms (burst * period stays within 2^52 token-microseconds), was "
                    + burst + ": lower the burst or the period");
        }
    }

    /** Applies this limit's algorithm (a {@code concurrency} check's lease token is {@code null} here). */
    public Outcome decide(String stored, long cost, long nowMicros) {
        return decide(stored, cost, nowMicros, null);
    }

    /**
     * Applies this limit's algorithm: see {@link TokenBucket}, {@link FixedWindow}, {@link
     * SlidingWindowCounter}, {@link SlidingWindowLog} and {@link Concurrency}, which takes the lease
     * {@code token} when it admits.
     */
    public Outcome decide(String stored, long cost, long nowMicros, String token) {
        return switch (algorithm) {
            case TOKEN_BUCKET, GCRA -> TokenBucket.decide(this, stored, cost, nowMicros);
            case FIXED_WINDOW -> FixedWindow.decide(this, stored, cost, nowMicros);
            case SLIDING_WINDOW_COUNTER -> SlidingWindowCounter.decide(this, stored, cost, nowMicros);
            case SLIDING_WINDOW_LOG -> SlidingWindowLog.decide(this, stored, cost, nowMicros);
            case CONCURRENCY -> Concurrency.decide(this, stored, cost, nowMicros, token);
        };
    }

    /**
     * Takes {@code cost} units admitted already, even beyond what is left (the reconciliation of
     * local usage, {@code RateLimitStore#charge}): each algorithm's {@code charge}. A concurrency
     * limit has no charge (its leases are not carried over): decided as a check.
     */
    public Outcome charge(String stored, long cost, long nowMicros) {
        return switch (algorithm) {
            case TOKEN_BUCKET, GCRA -> TokenBucket.charge(this, stored, cost, nowMicros);
            case FIXED_WINDOW -> FixedWindow.charge(this, stored, cost, nowMicros);
            case SLIDING_WINDOW_COUNTER -> SlidingWindowCounter.charge(this, stored, cost, nowMicros);
            case SLIDING_WINDOW_LOG -> SlidingWindowLog.charge(this, stored, cost, nowMicros);
            case CONCURRENCY -> Concurrency.decide(this, stored, cost, nowMicros, null);
        };
    }

    /**
     * Takes back what the admitted check {@code consumed} took ({@code units} of it): the
     * compensation of a multi-limit check that another limit denied. The result's decision is
     * {@code null}.
     */
    public Outcome refund(String stored, long units, Decision consumed, long nowMicros) {
        return switch (algorithm) {
            case TOKEN_BUCKET, GCRA -> TokenBucket.refund(this, stored, units, nowMicros);
            case FIXED_WINDOW -> FixedWindow.refund(this, stored, units, consumed.nowMicros());
            case SLIDING_WINDOW_COUNTER -> SlidingWindowCounter.refund(this, stored, units, consumed.nowMicros());
            case SLIDING_WINDOW_LOG -> SlidingWindowLog.refund(stored, units, consumed.nowMicros());
            case CONCURRENCY -> Concurrency.release(stored, consumed.lease());
        };
    }

    /** The period in microseconds. */
    public long periodMicros() {
        return periodMs * 1000;
    }
}
