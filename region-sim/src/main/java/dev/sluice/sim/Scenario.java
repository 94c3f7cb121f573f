package dev.sluice.sim;

import java.util.List;

/**
 * One simulated run: R regions, the links between them, the traffic, and the global policy — L
 * units per window W with a burst of L — decided by one of three {@link Mode}s. Times in µs.
 *
 * @param mode how the regions share the limit
 * @param regions R
 * @param nodes Sluice nodes per region (each runs its own sync)
 * @param syncMicros S, the sync period
 * @param rttMicros the round trip between any two regions (each way half of it)
 * @param jitterMicros each one-way delay varies uniformly by up to this either way
 * @param loss the chance that a message (a shipment or its answer) is lost
 * @param windowMicros W, the policy's period
 * @param limit L, units per W (and the burst)
 * @param load the offered load as a multiple of L per W, over all regions
 * @param traffic how the load is spread over the regions, in time
 * @param poisson Poisson arrivals in each region (else evenly spaced)
 * @param partitions links cut both ways for a while
 * @param warmupMicros simulated before anything is measured
 * @param measureMicros the span measured after the warm-up
 * @param shareFloor limiter.region.share-floor (φ = share-floor / R)
 * @param outage one region's store not answering for a while (null: none)
 */
public record Scenario(
        Mode mode,
        int regions,
        int nodes,
        long syncMicros,
        long rttMicros,
        long jitterMicros,
        double loss,
        long windowMicros,
        long limit,
        double load,
        Traffic traffic,
        boolean poisson,
        List<Partition> partitions,
        long warmupMicros,
        long measureMicros,
        double shareFloor,
        Outage outage) {

    /** A scenario whose stores all answer. */
    public Scenario(
            Mode mode,
            int regions,
            int nodes,
            long syncMicros,
            long rttMicros,
            long jitterMicros,
            double loss,
            long windowMicros,
            long limit,
            double load,
            Traffic traffic,
            boolean poisson,
            List<Partition> partitions,
            long warmupMicros,
            long measureMicros,
            double shareFloor) {
        this(
                mode,
                regions,
                nodes,
                syncMicros,
                rttMicros,
                jitterMicros,
                loss,
                windowMicros,
                limit,
                load,
                traffic,
                poisson,
                partitions,
                warmupMicros,
                measureMicros,
                shareFloor,
                null);
    }

    /**
     * Region {@code region}'s store (its Redis) not answering in [from, to): every call fails, its data
     * is kept. Its nodes decide the global policy's checks by the policy's failure mode ({@code
     * FailureModes}): {@code open} admits, {@code closed} denies, {@code local} decides each node's
     * checks in-process on the region's last known share divided among its nodes ({@code
     * RegionMode.regionLimit}, {@code Membership.share}), seeded from what the store last told that
     * node, and charges the store with what it admitted before the node's first check after the
     * store is back ({@code GlobalBucket.charge}). Nothing of the region's demand is shipped
     * meanwhile, and a peer's shipment to it is answered with an error. {@code wholeLimit}: the
     * {@code local} fallback a limiter without shares has — each node on the whole limit divided
     * among the region's nodes (for comparison; not what Sluice does). {@code flapMicros} > 0: the
     * store flaps within the span — down for that long, up for as long, and so on (0: down throughout).
     */
    public record Outage(
            int region,
            long fromMicros,
            long toMicros,
            dev.sluice.config.FailureMode failure,
            boolean wholeLimit,
            long flapMicros) {
        /** Down for the whole span. */
        public Outage(
                int region, long fromMicros, long toMicros, dev.sluice.config.FailureMode failure, boolean wholeLimit) {
            this(region, fromMicros, toMicros, failure, wholeLimit, 0);
        }

        boolean down(int r, long t) {
            if (r != region || t < fromMicros || t >= toMicros) {
                return false;
            }
            // flapping: down for flapMicros, up for as long, down again, from the start of the span
            return flapMicros <= 0 || ((t - fromMicros) / flapMicros) % 2 == 0;
        }

        /** How the curves name it. */
        public String label() {
            return wholeLimit ? "local-whole-limit" : failure.value();
        }
    }

    /** How the regions hold one limit between them. */
    public enum Mode {
        /** Sluice: each region decides on its share of the limit, from the demands the regions ship. */
        SLUICE("sluice"),
        /**
         * Plain counter replication: each region decides on the whole limit and ships its consumption
         * to the others every S, who take it from their own buckets when it arrives (what Upstash's
         * multi-region limiter, Gubernator's MULTI_REGION and Kong's sync_rate do, in essence).
         */
        REPLICATION("replication"),
        /** A static split: each region decides on L/R alone, nothing shipped. */
        STATIC("static-split");

        private final String label;

        Mode(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * The link between regions {@code a} and {@code b} (or every link of {@code a}, b = -1) cut in
     * [from, to): refusing connections at once, or — {@code blackhole} — taking them and dropping
     * everything (a stopped process, a route that drops packets), so that each call waits for its
     * time-out.
     */
    public record Partition(int a, int b, long fromMicros, long toMicros, boolean blackhole) {
        /** A cut that refuses connections at once. */
        public Partition(int a, int b, long fromMicros, long toMicros) {
            this(a, b, fromMicros, toMicros, false);
        }

        boolean cuts(int x, int y, long t) {
            return t >= fromMicros && t < toMicros && ((x == a && (b < 0 || y == b)) || (y == a && (b < 0 || x == b)));
        }
    }

    public Scenario {
        partitions = List.copyOf(partitions);
        if (regions < 1 || nodes < 1 || syncMicros < 1 || windowMicros < 1000 || limit < 1 || load <= 0) {
            throw new IllegalArgumentException("a scenario needs R >= 1, N >= 1, S > 0, W >= 1 ms, L >= 1 and a load");
        }
    }

    /** The same scenario under another mode. */
    public Scenario with(Mode m) {
        return copy(m, outage);
    }

    /** The same scenario with {@code o} (null: none). */
    public Scenario with(Outage o) {
        return copy(mode, o);
    }

    private Scenario copy(Mode m, Outage o) {
        return new Scenario(
                m,
                regions,
                nodes,
                syncMicros,
                rttMicros,
                jitterMicros,
                loss,
                windowMicros,
                limit,
                load,
                traffic,
                poisson,
                partitions,
                warmupMicros,
                measureMicros,
                shareFloor,
                o);
    }
}
