package dev.sluice.region;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.Outcome;
import dev.sluice.core.TokenBucket;

/**
 * A global policy's token bucket check in one region, pure: the Java twin of prelude.lua's global
 * part with token_bucket.lua after it. The region state counts the check in its demand and gives
 * the share ({@link RegionState#decide}); the bucket is decided on that share — {@code burst × sn}
 * tokens refilling at {@code rate × sn} — and when the share grew since the bucket was last decided
 * on, its state is first moved so that it holds no more tokens than before ({@link
 * RegionShares#grownDebt}). Takes {@code now} as an argument, so a simulator drives it in virtual
 * time; {@code RegionStateParityIT} holds it to the scripts.
 */
public final class GlobalBucket {
    private GlobalBucket() {}

    /**
     * Decides a check of {@code cost} units (0: a look) on the bucket {@code stored} (its state as
     * token_bucket.lua keeps it; null: none) and the region state {@code state}, which it updates;
     * {@code initial} is the share while none was computed, {@code syncMicros} S. The outcome's write
     * is the bucket's new state (null: unchanged), with its time to live.
     */
    public static Outcome check(
            Limit limit, RegionState state, String stored, long cost, long now, long initial, long syncMicros) {
        return decide(limit, state, stored, cost, now, initial, syncMicros, false);
    }

    /**
     * A reconciliation charge of {@code units} (usage a node admitted in-process while the region's
     * store did not answer; {@code FailureModes}): counted in the region's demand as any check, and
     * taken whole from the bucket at the region's share, up to one burst of overdraft — a script run
     * with {@code 'charge'} (prelude.lua's {@code force}).
     */
    public static Outcome charge(
            Limit limit, RegionState state, String stored, long units, long now, long initial, long syncMicros) {
        return decide(limit, state, stored, units, now, initial, syncMicros, true);
    }

    private static Outcome decide(
            Limit limit,
            RegionState state,
            String stored,
            long cost,
            long now,
            long initial,
            long syncMicros,
            boolean force) {
        RegionState.Decided d = state.decide(cost, now, initial);
        long sn = d.share();
        long su = d.previous();
        long burst = RegionShares.burst(limit.burst(), sn);
        String bucket = stored;
        String moved = null;
        long movedTtl = -1;
        if (su != sn && su >= 1 && sn > su && burst >= 1) {
            long fullAt = parse(stored);
            long debt = fullAt > now ? fullAt - now : 0;
            long m = RegionShares.grownDebt(limit.burst(), limit.limit(), limit.periodMicros(), su, sn, debt);
            moved = Long.toString(now + m);
            movedTtl = Math.ceilDiv(m, 1000);
            bucket = moved;
        }
        if (burst < 1) {
            long wait = Math.ceilDiv(syncMicros, 1000);
            return new Outcome(new Decision(false, 0, 0, wait, wait, now), moved, movedTtl);
        }
        Outcome o = TokenBucket.decide(
                burst, limit.limit(), RegionShares.periodMicros(limit.periodMicros(), sn), bucket, cost, now, force);
        return o.write() != null ? o : new Outcome(o.decision(), moved, movedTtl);
    }

    private static long parse(String stored) {
        if (stored == null) {
            return Long.MIN_VALUE;
        }
        try {
            return Long.parseLong(stored);
        } catch (NumberFormatException e) {
            return Long.MIN_VALUE;
        }
    }
}
