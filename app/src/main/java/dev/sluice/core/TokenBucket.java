package dev.sluice.core;

/**
 * The token bucket decision as a pure function of the stored state, the cost and the time: the Java
 * twin of {@code lua/.../token_bucket.lua}, step for step, so the two can be compared.
 *
 * <p>Design: tokens are kept scaled by the period in milliseconds ({@code scaled = tokens *
 * periodMs}). Refill over {@code e} ms then adds exactly {@code e * limit} scaled units, and every
 * quantity is an integer: no rounding drift, and the script's doubles (exact below 2^53) agree with
 * Java's longs. Time never runs backwards for a bucket: a reading before the last update counts as
 * equal to it. The state is written only when tokens are taken; its time to live is the time until
 * the bucket is full, after which a missing key and a full bucket are the same thing.
 */
public final class TokenBucket {
    private TokenBucket() {}

    /**
     * What a check does.
     *
     * @param decision the answer
     * @param write the state to store, or {@code null} when nothing is written (a look or a denial)
     * @param ttlMs the time to live of {@code write}
     */
    public record Outcome(Decision decision, TokenBucketState write, long ttlMs) {}

    /**
     * Decides a check of {@code cost} units ({@code 0}: look whether one unit is available) at
     * {@code nowMs} against {@code state} ({@code null}: never seen, or expired).
     */
    public static Outcome decide(Limit limit, TokenBucketState state, long cost, long nowMs) {
        long period = limit.periodMs();
        long capacity = limit.capacity();
        long tokens = capacity;
        long now = nowMs;
        if (state != null) {
            long s = state.scaled();
            if (state.periodMs() != period) {
                s = (s / state.periodMs()) * period;
            }
            s = Math.min(s, capacity);
            now = Math.max(now, state.timestampMs());
            long elapsed = now - state.timestampMs();
            if (elapsed >= ceilDiv(capacity - s, limit.limit())) {
                tokens = capacity;
            } else {
                tokens = s + elapsed * limit.limit();
            }
        }
        boolean look = cost == 0;
        long need = look ? period : cost * period;
        boolean allowed = tokens >= need;
        long retry = 0;
        if (allowed) {
            if (!look) {
                tokens -= need;
            }
        } else {
            retry = ceilDiv(need - tokens, limit.limit());
        }
        long reset = ceilDiv(capacity - tokens, limit.limit());
        Decision decision = new Decision(allowed, limit.burst(), tokens / period, reset, retry, now);
        TokenBucketState write = allowed && !look ? new TokenBucketState(tokens, now, period) : null;
        return new Outcome(decision, write, reset);
    }

    private static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
