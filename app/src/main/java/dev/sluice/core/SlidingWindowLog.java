package dev.sluice.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The sliding window log decision: the Java twin of {@code lua/.../sliding_window_log.lua}.
 *
 * <p>Design: a sorted set holds one entry per admitted unit, scored by its admission time in µs,
 * member {@code "<time>:<n>"} with {@code n} zero-padded to five digits and counting from 0 within
 * one time, so members are unique and, within one score, ordered like their numbers. A unit counts
 * while {@code score > now - period}: the log is exact, no request is ever admitted beyond {@code
 * limit} in any window of one period. Denials and looks only read (a flood of denied requests
 * writes nothing); an admission trims the units that left the window, adds its own and sets the
 * time to live to one period. A clock reading older than the newest entry counts as that entry's
 * time, so time never runs backwards for the log. Memory grows with the limit (one entry per unit),
 * so {@code limit} is at most {@link #MAX_LIMIT}.
 */
public final class SlidingWindowLog {
    /** The largest limit a log keeps (the member's sequence number has five digits). */
    public static final long MAX_LIMIT = 100_000;

    private SlidingWindowLog() {}

    /** Decides a check of {@code cost} units (0: look whether one unit is there) against {@code stored}. */
    public static Outcome decide(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, false);
    }

    /**
     * Takes {@code cost} units admitted already (the reconciliation of usage decided in-process while
     * the store was unreachable): whole, even beyond the limit, up to one limit (and at most {@link #MAX_LIMIT} entries in the window: the sequence numbers have five digits) of overdraft. The twin of
     * a script run with {@code force} (prelude.lua).
     */
    public static Outcome charge(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, true);
    }

    private static Outcome decide(Limit limit, String stored, long cost, long nowMicros, boolean force) {
        List<ZState.Entry> set = ZState.parse(stored);
        long now = nowMicros;
        if (!set.isEmpty()) {
            now = Math.max(now, set.getLast().score());
        }
        long period = limit.periodMicros();
        long max = limit.limit();
        int first = ZState.firstAbove(set, now - period);
        long count = set.size() - first;
        long need = cost == 0 ? 1 : cost;
        boolean allowed = (force && cost > 0) || count + need <= max;
        String write = null;
        long ttl = -1;
        long retry = 0;
        long newest = set.isEmpty() ? 0 : set.getLast().score();
        long cap = Math.min(2 * max, MAX_LIMIT);
        if (force && cost > 0 && count + cost > cap) {
            cost = Math.max(0, cap - count);
        }
        if (allowed) {
            if (cost > 0) {
                List<ZState.Entry> kept = new ArrayList<>(set.subList(first, set.size()));
                long k = 0;
                for (ZState.Entry e : kept) {
                    if (e.score() == now) {
                        k++;
                    }
                }
                for (long i = 0; i < cost; i++) {
                    kept.add(new ZState.Entry(member(now, k + i), now));
                }
                count += cost;
                newest = now;
                write = ZState.format(kept);
                ttl = ceilDiv(period, 1000);
            }
        } else {
            ZState.Entry e = set.get(first + (int) (count + need - max - 1));
            retry = ceilDiv(e.score() + period - now, 1000);
        }
        long reset = count > 0 ? ceilDiv(newest + period - now, 1000) : 0;
        Decision decision = new Decision(allowed, max, Math.max(0, max - count), reset, retry, now);
        return new Outcome(decision, write, ttl);
    }

    /** Takes back {@code units} admitted at {@code consumedAt}: the highest-numbered entries of that time. */
    public static Outcome refund(String stored, long units, long consumedAt) {
        List<ZState.Entry> set = ZState.parse(stored);
        List<ZState.Entry> atTime = new ArrayList<>();
        for (ZState.Entry e : set) {
            if (e.score() == consumedAt) {
                atTime.add(e);
            }
        }
        long n = Math.min(units, atTime.size());
        if (n == 0) {
            return Outcome.unchanged(null);
        }
        for (int i = 0; i < n; i++) {
            set.remove(atTime.get(atTime.size() - 1 - i));
        }
        return new Outcome(null, ZState.format(set), -1);
    }

    static String member(long time, long n) {
        return time + ":" + String.format("%05d", n);
    }

    private static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
