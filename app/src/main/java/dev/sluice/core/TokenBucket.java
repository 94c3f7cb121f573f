package dev.sluice.core;

/**
 * The token bucket decision as a pure function of the stored state, the cost and the time: the Java
 * twin of {@code lua/.../token_bucket.lua}, step for step, so the two can be compared.
 *
 * <p>Design: the state is one integer, {@code fullAt}, the time in microseconds at which the bucket
 * is full again (the token bucket in its GCRA form). With the debt {@code D = fullAt - now},
 * clamped to {@code [0, time to fill]}, the bucket holds {@code burst - D * limit / period} tokens
 * (a {@link #charge} may take {@code D} up to twice the time to fill: no tokens, the whole wait in
 * reset and retry);
 * taking {@code c} tokens moves {@code fullAt} to {@code max(fullAt, now) + ceil(c * period /
 * limit)}. Every quantity is an integer below 2^53 (see {@link Limit}), so the script's doubles and
 * Java's longs agree exactly. {@code fullAt} never decreases, so a clock that runs backwards can only
 * make a decision stricter; rounding the added time up loses at most 1 µs of refill per admitted
 * check and never admits more than the bucket allows. The state is written only when tokens are
 * taken, with a time to live equal to the time until full.
 */
public final class TokenBucket {
    private TokenBucket() {}

    /**
     * Decides a check of {@code cost} units ({@code 0}: look whether one unit is available) at
     * {@code nowMicros} against the stored state: {@code fullAt} as a decimal integer ({@code null}
     * or unreadable: never seen, or expired — a full bucket).
     */
    public static Outcome decide(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, false);
    }

    /**
     * Takes {@code cost} units admitted already (the reconciliation of usage decided in-process while
     * the store was unreachable): whole, even beyond what is left, up to one burst of overdraft — a
     * debt of twice the time to fill — that the next checks wait out. The twin of a script run
     * with {@code force} (prelude.lua).
     */
    public static Outcome charge(Limit limit, String stored, long cost, long nowMicros) {
        return decide(limit, stored, cost, nowMicros, true);
    }

    private static Outcome decide(Limit limit, String stored, long cost, long nowMicros, boolean force) {
        return decide(limit.burst(), limit.limit(), limit.periodMicros(), stored, cost, nowMicros, force);
    }

    /**
     * The same on a bucket given by its parts — {@code burst}, {@code rate} tokens per {@code
     * period} µs — as a global policy's share shapes it ({@code dev.sluice.region.GlobalBucket}),
     * whose period need not be whole milliseconds; {@code force}: a {@link #charge}.
     */
    public static Outcome decide(
            long burst, long rate, long period, String stored, long cost, long nowMicros, boolean force) {
        Long fullAt = null;
        if (stored != null) {
            try {
                fullAt = Long.parseLong(stored);
            } catch (NumberFormatException e) {
                fullAt = null;
            }
        }
        long fill = ceilDiv(burst * period, rate);
        // owed: the debt as stored, beyond the time to fill after a charge's overdraft (or a lowered
        // limit), the whole wait; debt: the same clamped to the time to fill, for the tokens held
        long owed = fullAt != null && fullAt > nowMicros ? fullAt - nowMicros : 0;
        long debt = Math.min(owed, fill);
        long need = cost == 0 ? 1 : cost;
        boolean allowed;
        long retry = 0;
        String write = null;
        if (force && cost > 0) {
            allowed = true;
            long before = owed;
            owed += ceilDiv(cost * period, rate);
            if (owed > 2 * fill) {
                owed = Math.max(before, 2 * fill);
            }
            debt = Math.min(owed, fill);
            write = Long.toString(nowMicros + owed);
        } else {
            allowed = debt * rate <= (burst - need) * period;
            if (allowed) {
                if (cost > 0) {
                    debt += ceilDiv(cost * period, rate);
                    write = Long.toString(nowMicros + debt);
                }
                owed = debt;
            } else {
                retry = ceilDiv(owed - Math.floorDiv((burst - need) * period, rate), 1000);
            }
        }
        long remaining = Math.max(0, burst - ceilDiv(debt * rate, period));
        long reset = ceilDiv(owed, 1000);
        Decision decision = new Decision(allowed, burst, remaining, reset, retry, nowMicros);
        return new Outcome(decision, write, write == null ? -1 : reset);
    }

    /**
     * Takes back {@code units} tokens taken earlier: moves {@code fullAt} back by the time they
     * added. Where that is already past, the bucket is full and the state is removed.
     */
    public static Outcome refund(Limit limit, String stored, long units, long nowMicros) {
        long fullAt;
        try {
            fullAt = stored == null ? Long.MIN_VALUE : Long.parseLong(stored);
        } catch (NumberFormatException e) {
            fullAt = Long.MIN_VALUE;
        }
        if (fullAt == Long.MIN_VALUE) {
            return Outcome.unchanged(null);
        }
        long back = fullAt - ceilDiv(units * limit.periodMicros(), limit.limit());
        if (back <= nowMicros) {
            return new Outcome(null, "", -1);
        }
        return new Outcome(null, Long.toString(back), ceilDiv(back - nowMicros, 1000));
    }

    private static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
