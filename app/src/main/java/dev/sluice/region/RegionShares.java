package dev.sluice.region;

import dev.sluice.core.Limit;

/**
 * The share math of a global policy (docs/multi-region.md), pure and in integers, the Java twin of
 * region.lua and of prelude.lua's global part: what share of a policy a region decides on, and
 * the bucket that share gives it. Everything takes its inputs as arguments (no clock, no state).
 *
 * <p>Region i decides on {@code sn_i = phi + floor((SCALE - R * phi) * (f + x_i) / (R * f + x_i + sum
 * over j != i of v_ij))}, where {@code x_i} is its own demand (units asked in the last complete sync
 * period, no more than what every peer is known to hold of it), {@code v_ij} what it holds of region
 * j's, and {@code phi} the share every region keeps. Whenever {@code v_ij >= x_j} for all i and j —
 * each region counts itself no higher than the others count it — the shares add up to at most
 * {@code SCALE}: each fraction is at most {@code (f + x_i) / sum_j (f + x_j)}. Steady demand
 * converges every region to phi and its demand's fraction of the rest, whatever the skew; {@code f}
 * splits the limit equally among idle regions.
 */
public final class RegionShares {
    /** Shares are counted in 1/10000 of the policy. */
    public static final long SCALE = 10_000;

    private RegionShares() {}

    /** A region's share while nothing is known of any region's demand: an equal split. */
    public static long initial(int regions) {
        return SCALE / regions;
    }

    /**
     * f: the demand every region is counted with on top of its own, in units per sync period: {@code
     * fraction} of the policy's rate over one period of {@code syncMicros}, split over {@code
     * regions}; at least 1.
     */
    public static long floorDemand(Limit limit, long syncMicros, double fraction, int regions) {
        double perSync = (double) limit.limit() * syncMicros / limit.periodMicros();
        return Math.max(1, (long) Math.floor(fraction * perSync / regions));
    }

    /** The region's own demand as it counts itself: its demand, but no more than {@code acked}. */
    public static long own(long demand, long acked) {
        return Math.min(demand, acked);
    }

    /**
     * φ: the share (1/SCALE) every region holds at least, however large the others' demand: {@code
     * shareFloor / regions} of the limit. A region with a little traffic on a subject another region
     * drives far above the rate keeps it (found black-box: at about f / (R·f + the others' demand)
     * its bucket held less than one token and it admitted nothing for as long as that lasted).
     */
    public static long guaranteed(double shareFloor, int regions) {
        return (long) Math.floor(SCALE * shareFloor / regions);
    }

    /**
     * sn: the region's share in 1/SCALE, from f, φ, R, its own demand (as counted) and its peers'
     * sum: {@code phi + floor((SCALE - R·phi) * (f + own) / (R·f + own + peers))}.
     */
    public static long share(long f, long phi, int regions, long own, long peers) {
        return phi + Math.floorDiv((SCALE - regions * phi) * (f + own), regions * f + own + peers);
    }

    /** The burst a region decides on with share {@code sn}; 0 means it denies until the shares change. */
    public static long burst(long burst, long sn) {
        return Math.floorDiv(burst * sn, SCALE);
    }

    /**
     * The debt (µs) a region's bucket holds after its share grew from {@code su} to {@code sn},
     * given its debt under {@code su}: as many tokens as before, never more (prelude.lua). Rounded
     * up, plus one µs for the floating-point step Lua takes.
     */
    public static long grownDebt(long burst, long limit, long periodMicros, long su, long sn, long debt) {
        long oldBurst = burst(burst, su);
        long oldPeriod = periodMicros(periodMicros, su);
        long newBurst = burst(burst, sn);
        long newPeriod = periodMicros(periodMicros, sn);
        long fill = Math.ceilDiv(oldBurst * oldPeriod, limit);
        // up to twice the time to fill: a charge's overdraft (TokenBucket#charge) moves with the share
        long d = Math.min(Math.max(debt, 0), 2 * fill);
        return Math.ceilDiv((newBurst - oldBurst) * newPeriod, limit)
                + (long) Math.ceil(d * ((double) newPeriod / oldPeriod))
                + 1;
    }

    /** The period (µs) a region's bucket refills {@code limit} tokens in with share {@code sn > 0}. */
    public static long periodMicros(long periodMicros, long sn) {
        return Math.ceilDiv(periodMicros * SCALE, sn);
    }
}
