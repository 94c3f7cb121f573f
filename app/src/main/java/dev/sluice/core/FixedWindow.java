package dev.sluice.core;

/**
 * The fixed window decision: the Java twin of {@code lua/.../fixed_window.lua}.
 *
 * <p>Design: windows are {@code [k * period, (k + 1) * period)} in microseconds since the epoch;
 * the state {@code "<k>:<count>"} counts the units admitted in window {@code k}. A check is
 * admitted when {@code count + cost <= limit}. A clock reading in an earlier window than the stored
 * one counts in the stored window (time never runs backwards for a counter). The state lives until
 * its window ends. Known bias, kept on purpose because operators expect it: up to {@code 2 *
 * limit} units within one period when a client spends a full window just before and just after a
 * boundary.
 */
public final class FixedWindow {
    private FixedWindow() {}

    /** Decides a check of {@code cost} units (0: look whether one unit is there) against {@code stored}. */
    public static Outcome decide(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, false);
    }

    /**
     * Takes {@code cost} units admitted already (the reconciliation of usage decided in-process while
     * the store was unreachable): whole, even beyond the limit, up to one limit of overdraft. The twin of
     * a script run with {@code force} (prelude.lua).
     */
    public static Outcome charge(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, true);
    }

    private static Outcome decide(Limit limit, String stored, long cost, long nowMicros, boolean force) {
        long period = limit.periodMicros();
        long window = Math.floorDiv(nowMicros, period);
        long count = 0;
        long[] state = parse(stored);
        if (state != null && state[0] >= window) {
            window = state[0];
            count = state[1];
        }
        long need = cost == 0 ? 1 : cost;
        long untilEnd = ceilDiv((window + 1) * period - nowMicros, 1000);
        boolean allowed = (force && cost > 0) || count + need <= limit.limit();
        String write = null;
        long retry = 0;
        if (allowed) {
            if (cost > 0) {
                long before = count;
                count += cost;
                if (force && count > 2 * limit.limit()) {
                    count = Math.max(before, 2 * limit.limit());
                }
                write = window + ":" + count;
            }
        } else {
            retry = untilEnd;
        }
        long reset = count > 0 ? untilEnd : 0;
        long remaining = Math.max(0, limit.limit() - count);
        Decision decision = new Decision(allowed, limit.limit(), remaining, reset, retry, nowMicros);
        return new Outcome(decision, write, write == null ? -1 : untilEnd);
    }

    /**
     * Takes back {@code units} admitted at {@code consumedAt}, if that window is still the stored
     * one (a later window never counted them). The time to live stays.
     */
    public static Outcome refund(Limit limit, String stored, long units, long consumedAt) {
        long[] state = parse(stored);
        if (state == null || state[0] != Math.floorDiv(consumedAt, limit.periodMicros())) {
            return Outcome.unchanged(null);
        }
        long count = Math.max(0, state[1] - units);
        return new Outcome(null, count == 0 ? "" : state[0] + ":" + count, -1);
    }

    private static long[] parse(String stored) {
        if (stored == null) {
            return null;
        }
        int colon = stored.indexOf(':');
        if (colon <= 0 || colon == stored.length() - 1) {
            return null;
        }
        try {
            long w = Long.parseLong(stored, 0, colon, 10);
            long c = Long.parseLong(stored, colon + 1, stored.length(), 10);
            return w < 0 || c < 0 ? null : new long[] {w, c};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
