package dev.sluice.core;

/**
 * The sliding window counter decision (Cloudflare's two-window approximation): the Java twin of
 * {@code lua/.../sliding_window_counter.lua}.
 *
 * <p>Design: the state {@code "<k>:<cur>:<prev>"} holds the units admitted in window {@code k =
 * floor(now / period)} and in window {@code k - 1}. At {@code e} µs into window {@code k} the
 * estimate of the last period's use is {@code prev * (period - e) / period + cur}: the previous
 * window's count weighted by how much of it still overlaps the sliding period. A check is admitted
 * when {@code estimate + cost <= limit}, compared as integers multiplied by {@code period}, so the
 * twin and the script agree exactly. The estimate assumes the previous window's units were spread
 * evenly; it never lets a client spend a full limit just before and again just after a boundary,
 * which a fixed window does. A clock reading before the stored window counts as that window's
 * start. The state lives until the end of window {@code k + 1}.
 */
public final class SlidingWindowCounter {
    private SlidingWindowCounter() {}

    /** Decides a check of {@code cost} units (0: look whether one unit is there) against {@code stored}. */
    public static Outcome decide(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, false);
    }

    /**
     * Takes {@code cost} units admitted already (the reconciliation of usage decided in-process while
     * the store was unreachable): whole, even beyond the limit, up to one limit in the current window of overdraft. The twin of
     * a script run with {@code force} (prelude.lua).
     */
    public static Outcome charge(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, true);
    }

    private static Outcome decide(Limit limit, String stored, long cost, long nowMicros, boolean force) {
        long period = limit.periodMicros();
        long max = limit.limit();
        long window = Math.floorDiv(nowMicros, period);
        long at = nowMicros;
        long cur = 0;
        long prev = 0;
        long[] state = parse(stored);
        if (state != null) {
            long k = state[0];
            if (k > window) {
                window = k;
                at = k * period;
            }
            if (k == window) {
                cur = state[1];
                prev = state[2];
            } else if (k == window - 1) {
                prev = state[1];
            }
        }
        long e = at - window * period;
        long need = cost == 0 ? 1 : cost;
        boolean allowed = (force && cost > 0) || prev * (period - e) + (cur + need) * period <= max * period;
        String write = null;
        long ttl = 0;
        long retry = 0;
        if (allowed) {
            if (cost > 0) {
                long before = cur;
                cur += cost;
                if (force && cur > 2 * max) {
                    cur = Math.max(before, 2 * max);
                }
                write = window + ":" + cur + ":" + prev;
                ttl = ceilDiv((window + 2) * period - nowMicros, 1000);
            }
        } else {
            long t = -1;
            long slack = max - cur - need;
            if (slack >= 0 && prev > 0) {
                long e2 = period - Math.floorDiv(slack * period, prev);
                if (e2 < period) {
                    t = window * period + e2;
                }
            }
            if (t < 0) {
                long e3 = 0;
                if (cur > 0) {
                    e3 = Math.max(0, period - Math.floorDiv((max - need) * period, cur));
                }
                t = (window + 1) * period + e3;
            }
            retry = ceilDiv(t - nowMicros, 1000);
        }
        long reset = 0;
        if (cur > 0) {
            reset = ceilDiv((window + 2) * period - nowMicros, 1000);
        } else if (prev > 0) {
            reset = ceilDiv((window + 1) * period - nowMicros, 1000);
        }
        long remaining = Math.max(0, Math.floorDiv(max * period - prev * (period - e) - cur * period, period));
        Decision decision = new Decision(allowed, max, remaining, reset, retry, nowMicros);
        return new Outcome(decision, write, write == null ? -1 : ttl);
    }

    /**
     * Takes back {@code units} admitted at {@code consumedAt}: from the current window's count if
     * that is still the stored window, from the previous window's if one window has passed since;
     * later, they no longer weigh on any decision. The time to live stays.
     */
    public static Outcome refund(Limit limit, String stored, long units, long consumedAt) {
        long[] state = parse(stored);
        if (state == null) {
            return Outcome.unchanged(null);
        }
        long window = Math.floorDiv(consumedAt, limit.periodMicros());
        long cur = state[1];
        long prev = state[2];
        if (state[0] == window) {
            cur = Math.max(0, cur - units);
        } else if (state[0] == window + 1) {
            prev = Math.max(0, prev - units);
        } else {
            return Outcome.unchanged(null);
        }
        return new Outcome(null, cur == 0 && prev == 0 ? "" : state[0] + ":" + cur + ":" + prev, -1);
    }

    private static long[] parse(String stored) {
        if (stored == null) {
            return null;
        }
        String[] parts = stored.split(":", -1);
        if (parts.length != 3) {
            return null;
        }
        try {
            long k = Long.parseLong(parts[0]);
            long c = Long.parseLong(parts[1]);
            long p = Long.parseLong(parts[2]);
            return k < 0 || c < 0 || p < 0 ? null : new long[] {k, c, p};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
