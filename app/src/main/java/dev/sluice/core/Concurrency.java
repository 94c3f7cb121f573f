package dev.sluice.core;

import java.util.List;

/**
 * The concurrency limit: the Java twin of {@code lua/.../concurrency.lua}.
 *
 * <p>Design: a sorted set of leases, member the lease's token, score the time (µs) it expires.
 * {@code limit} leases may be held at once; the period of the limit is the lease's time to live,
 * after which a lease its holder never released stops counting, so a crashed caller cannot leak
 * capacity. An admitted check (cost 1: one lease per check) trims the expired leases, adds its own
 * and sets the key's time to live to the latest expiry; a denial or a look only reads. Release (and
 * refund) removes the lease. When denied, the retry time is the time until the earliest lease
 * expires, at most one second, since callers usually release long before their lease expires.
 */
public final class Concurrency {
    /** The longest {@code Retry-After} a denial advises, in ms. */
    public static final long MAX_RETRY_MS = 1_000;

    private Concurrency() {}

    /** Decides a check that would take the lease {@code token} (cost 0: look whether one is free). */
    public static Outcome decide(Limit limit, String stored, long cost, long nowMicros, String token) {
        List<ZState.Entry> set = ZState.parse(stored);
        int first = ZState.firstAbove(set, nowMicros);
        long count = set.size() - first;
        long max = limit.limit();
        boolean allowed = count + 1 <= max;
        String write = null;
        long ttl = -1;
        long retry = 0;
        String lease = null;
        if (allowed) {
            if (cost > 0) {
                List<ZState.Entry> live = new java.util.ArrayList<>(set.subList(first, set.size()));
                live.add(new ZState.Entry(token, nowMicros + limit.periodMicros()));
                set = ZState.parse(ZState.format(live));
                count += 1;
                write = ZState.format(set);
                ttl = ceilDiv(set.getLast().score() - nowMicros, 1000);
                lease = token;
            }
        } else {
            retry = Math.min(MAX_RETRY_MS, ceilDiv(set.get(first).score() - nowMicros, 1000));
        }
        long reset = count > 0 ? ceilDiv(set.getLast().score() - nowMicros, 1000) : 0;
        Decision decision = new Decision(allowed, max, Math.max(0, max - count), reset, retry, nowMicros, lease);
        return new Outcome(decision, write, ttl);
    }

    /** Releases the lease {@code token}; {@code write} is {@code null} when there was no such lease. */
    public static Outcome release(String stored, String token) {
        List<ZState.Entry> set = ZState.parse(stored);
        boolean removed = set.removeIf(e -> e.member().equals(token));
        return removed ? new Outcome(null, ZState.format(set), -1) : Outcome.unchanged(null);
    }

    private static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
