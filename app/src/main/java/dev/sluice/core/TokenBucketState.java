package dev.sluice.core;

/**
 * A token bucket's stored state, format version 1, exactly as {@code token_bucket.lua} writes it:
 * {@code "<scaled>:<timestampMs>:<periodMs>"} with {@code scaled = tokens * periodMs}.
 */
public record TokenBucketState(long scaled, long timestampMs, long periodMs) {

    /** The stored form. */
    public String encode() {
        return scaled + ":" + timestampMs + ":" + periodMs;
    }

    /** Parses the stored form; {@code null} for anything that is not state format 1. */
    public static TokenBucketState parse(String raw) {
        if (raw == null) {
            return null;
        }
        String[] parts = raw.split(":", -1);
        if (parts.length != 3) {
            return null;
        }
        try {
            long scaled = Long.parseLong(parts[0]);
            long ts = Long.parseLong(parts[1]);
            long period = Long.parseLong(parts[2]);
            if (scaled < 0 || ts < 0 || period < 1) {
                return null;
            }
            return new TokenBucketState(scaled, ts, period);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
