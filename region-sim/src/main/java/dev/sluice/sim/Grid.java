package dev.sluice.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Experiment 1, {@code grid}: O (p50, p99) and FR against the sync period S, the round trip, the
 * number of regions R and the window W, at offered loads of 1–5 × L, uniform traffic, for Sluice's
 * shares beside plain counter replication and a static L/R split. One CSV row per grid point and
 * policy; one chart per W (O_p99 against S at RTT 150 ms, R = 3, load 2 × L), the bound and the
 * published reference points marked.
 */
final class Grid {
    static final long[] SYNC_MS = {20, 100, 250, 500, 1_000, 2_000};
    static final long[] RTT_MS = {0, 30, 80, 150, 250};
    static final int[] REGIONS = {2, 3, 5};
    static final long[] WINDOW_S = {1, 10, 60};
    static final double[] LOADS = {1, 2, 3, 5};

    static final long[] QUICK_SYNC_MS = {100, 1_000};
    static final long[] QUICK_RTT_MS = {0, 150};
    static final int[] QUICK_REGIONS = {3};
    static final long[] QUICK_WINDOW_S = {1, 60};
    static final double[] QUICK_LOADS = {2};

    /** The limit's rate: 100 a second, whatever W (L = 100 × W). */
    static final long RATE_PER_SECOND = 100;

    private Grid() {}

    /** The scenario of one grid point: warm-up of 2 W (at least 5 s), then 10 W measured (at least 30 s). */
    static Scenario scenario(Scenario.Mode mode, int regions, long syncMs, long rttMs, long windowS, double load) {
        long w = windowS * 1_000_000;
        return new Scenario(
                mode,
                regions,
                Integer.getInteger("sim.nodes", 2),
                syncMs * 1000,
                rttMs * 1000,
                rttMs == 0 ? 0 : 10_000,
                0,
                w,
                RATE_PER_SECOND * windowS,
                load,
                Traffic.uniform(),
                true,
                List.of(),
                Math.max(2 * w, 5_000_000),
                Math.max(10 * w, 30_000_000),
                0.05);
    }

    static List<Result> run(Main.Options o) throws IOException {
        long[] syncs = o.quick() ? QUICK_SYNC_MS : SYNC_MS;
        long[] rtts = o.quick() ? QUICK_RTT_MS : RTT_MS;
        int[] regions = o.quick() ? QUICK_REGIONS : REGIONS;
        long[] windows = o.quick() ? QUICK_WINDOW_S : WINDOW_S;
        double[] loads = o.quick() ? QUICK_LOADS : LOADS;
        List<Result> results = new ArrayList<>();
        long seed = o.seed();
        for (long w : windows) {
            for (int r : regions) {
                for (long s : syncs) {
                    for (long rtt : rtts) {
                        for (double load : loads) {
                            seed++;
                            for (Scenario.Mode mode : Scenario.Mode.values()) {
                                // the same seed for every policy: the same arrivals
                                results.add(Simulation.run(scenario(mode, r, s, rtt, w, load), seed));
                            }
                        }
                    }
                }
            }
        }
        Csv.write(o.out().resolve("grid.csv"), results);
        for (long w : windows) {
            Charts.overAgainstSync(
                    o.out().resolve("grid-w" + w + "s"),
                    "O_p99 against S: R = 3, RTT 150 ms, offered 2 × L, W = " + w + " s",
                    results.stream()
                            .filter(x -> x.scenario().windowMicros() == w * 1_000_000
                                    && x.scenario().regions() == 3
                                    && x.scenario().rttMicros() == 150_000
                                    && x.scenario().load() == 2)
                            .toList());
        }
        return results;
    }
}
