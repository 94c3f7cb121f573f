package dev.sluice.core;

import java.util.Locale;

/** The decision algorithms a policy can use, by their configuration names. */
public enum Algorithm {
    /** Continuous refill up to a burst; state: one integer (see {@link TokenBucket}). */
    TOKEN_BUCKET("token-bucket"),
    /** A counter per fixed window of one period; boundary bias up to 2x (see {@link FixedWindow}). */
    FIXED_WINDOW("fixed-window"),
    /** Cloudflare's two-window weighted estimate of the last period (see {@link SlidingWindowCounter}). */
    SLIDING_WINDOW_COUNTER("sliding-window-counter");

    private final String value;

    Algorithm(String value) {
        this.value = value;
    }

    /** The configuration spelling, e.g. {@code token-bucket}. */
    public String value() {
        return value;
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
