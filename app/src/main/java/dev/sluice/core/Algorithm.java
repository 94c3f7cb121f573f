package dev.sluice.core;

import java.util.Locale;

/** The decision algorithms a policy can use, by their configuration names. */
public enum Algorithm {
    /** Continuous refill up to a burst; state: one integer (see {@link TokenBucket}). */
    TOKEN_BUCKET("token-bucket", "tb"),
    /**
     * The generic cell rate algorithm: one theoretical arrival time per subject. Its decisions are
     * exactly the token bucket's (Sluice stores the token bucket in GCRA form, ADR 0002), so both
     * names run the same script and twin and share the state; see docs/algorithms.md.
     */
    GCRA("gcra", "tb"),
    /** A counter per fixed window of one period; boundary bias up to 2x (see {@link FixedWindow}). */
    FIXED_WINDOW("fixed-window", "fw"),
    /** Cloudflare's two-window weighted estimate of the last period (see {@link SlidingWindowCounter}). */
    SLIDING_WINDOW_COUNTER("sliding-window-counter", "sw"),
    /** Exact: one sorted-set entry per admitted unit of the last period (see {@link SlidingWindowLog}). */
    SLIDING_WINDOW_LOG("sliding-window-log", "sl"),
    /** In-flight leases, released by the caller or expired (see {@link Concurrency}). */
    CONCURRENCY("concurrency", "cc");

    private final String value;
    private final String suffix;

    Algorithm(String value, String suffix) {
        this.value = value;
        this.suffix = suffix;
    }

    /** The configuration spelling, e.g. {@code token-bucket}. */
    public String value() {
        return value;
    }

    /** The last part of the subject's Redis key; algorithms with the same suffix share their state. */
    public String suffix() {
        return suffix;
    }

    /** Whether the state is a Redis sorted set (otherwise a string). */
    public boolean sortedSet() {
        return this == SLIDING_WINDOW_LOG || this == CONCURRENCY;
    }

    /** Whether {@code burst} may differ from {@code limit}. */
    public boolean hasBurst() {
        return this == TOKEN_BUCKET || this == GCRA;
    }

    /** The algorithm named {@code value} (case-insensitive), or {@code null}. */
    public static Algorithm of(String value) {
        if (value == null) {
            return null;
        }
        String wanted = value.toLowerCase(Locale.ROOT);
        for (Algorithm a : values()) {
            if (a.value.equals(wanted)) {
                return a;
            }
        }
        return null;
    }

    /** Every configuration name, comma-separated, for messages. */
    public static String names() {
        StringBuilder sb = new StringBuilder();
        for (Algorithm a : values()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(a.value);
        }
        return sb.toString();
    }
}
