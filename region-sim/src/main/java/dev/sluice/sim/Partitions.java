package dev.sluice.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Experiment 3, {@code partition}: region r2 cut off from both others for T ∈ {1 s, 10 s, 60 s,
 * 5 min} — its links refusing connections, or black-holed (taking them and dropping everything) —
 * under uniform 2 × L (R = 3, S = 1 s, RTT 150 ± 10 ms, W = 1 s), then healed: what all
 * regions admitted during the partition against its allowance (burst + L·T/W; issue 18's target ≤
 * 1.10 of it), FR, O, and how long after the heal the admitted rate is back within 10 % of one exact
 * bucket's for good (partition.csv); the cumulative admitted against the L·t envelope for T = 60 s.
 * The same with refused links where the load's spread moves at the cut: from the cut-off region to
 * another one (10/10/80 then 80/10/10), and into it (80/10/10 then 10/10/80).
 */
final class Partitions {
    static final long[] SECONDS = {1, 10, 60, 300};
    static final long[] QUICK_SECONDS = {1, 10, 60};
    static final long START = 20_000_000;
    static final long AFTER = 30_000_000;

    private Partitions() {}

    static Scenario scenario(Scenario.Mode mode, long seconds) {
        return scenario(mode, seconds, false);
    }

    static Scenario scenario(Scenario.Mode mode, long seconds, boolean blackhole) {
        return scenario(mode, seconds, blackhole, Traffic.uniform());
    }

    /**
     * The loads whose spread moves at the cut (links refused): what the cut-off region held before
     * the cut is what the others keep reserved for it, and what it may decide on, for the whole cut.
     */
    record Shift(String name, Traffic traffic) {}

    static List<Shift> shifts() {
        return List.of(
                new Shift("33/33/33", Traffic.uniform()),
                new Shift(
                        "10/10/80 then 80/10/10 at the cut",
                        Traffic.step(Traffic.skewed(0.1, 0.1, 0.8), Traffic.skewed(0.8, 0.1, 0.1), START)),
                new Shift(
                        "80/10/10 then 10/10/80 at the cut",
                        Traffic.step(Traffic.skewed(0.8, 0.1, 0.1), Traffic.skewed(0.1, 0.1, 0.8), START)));
    }

    static Scenario scenario(Scenario.Mode mode, long seconds, boolean blackhole, Traffic traffic) {
        long t = seconds * 1_000_000;
        return new Scenario(
                mode,
                3,
                2,
                1_000_000,
                150_000,
                10_000,
                0,
                1_000_000,
                100,
                2,
                traffic,
                true,
                List.of(new Scenario.Partition(2, -1, START, START + t, blackhole)),
                START,
                t + AFTER,
                0.05);
    }

    static List<Result> run(Main.Options o) throws IOException {
        List<Result> results = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        Map<String, double[][]> cumulative = new LinkedHashMap<>();
        long seed = o.seed() + 2_000;
        long shifted = o.seed() + 2_500; // the shifts' seeds apart: the uniform runs keep theirs
        for (long seconds : o.quick() ? QUICK_SECONDS : SECONDS) {
            for (Shift shift : shifts()) {
                for (boolean blackhole : new boolean[] {false, true}) {
                    if (blackhole && !shift.name().equals("33/33/33")) {
                        continue;
                    }
                    long runSeed = shift.name().equals("33/33/33") ? ++seed : ++shifted;
                    for (Scenario.Mode mode : Scenario.Mode.values()) {
                        Scenario sc = scenario(mode, seconds, blackhole, shift.traffic());
                        Result r = Simulation.run(sc, runSeed);
                        results.add(r);
                        long healed = START + seconds * 1_000_000;
                        int during = Result.count(r.admittedAt(), START, healed);
                        double allowance = sc.limit() + (double) sc.limit() * seconds * 1_000_000 / sc.windowMicros();
                        rows.add(String.format(
                                        Locale.ROOT,
                                        "%d,%s,%s,%d,%.4f,%.3f,",
                                        seconds,
                                        blackhole ? "blackhole" : "refused",
                                        shift.name(),
                                        during,
                                        during / allowance,
                                        converged(r, healed) / 1e6)
                                + Csv.row(r));
                        if (seconds == 60 && !blackhole && shift.name().equals("33/33/33")) {
                            if (cumulative.isEmpty()) {
                                cumulative.put("envelope burst + L·t", envelope(sc, seconds));
                                cumulative.put("one exact bucket", cumulativeOf(r.exactAt(), seconds));
                            }
                            cumulative.put(mode.label(), cumulativeOf(r.admittedAt(), seconds));
                        }
                    }
                }
            }
        }
        Csv.writeRows(
                o.out().resolve("partition.csv"),
                "partition_s,link,traffic,admitted_during,of_allowance,converged_s," + Csv.HEADER,
                rows);
        if (!cumulative.isEmpty()) {
            Charts.lines(
                    o.out().resolve("partition-60s"),
                    "Region r2 cut off for 60 s: admitted since the cut, all regions (L = 100 a second)",
                    "seconds since the cut",
                    "admitted since the cut",
                    cumulative,
                    false,
                    Map.of());
        }
        return results;
    }

    /**
     * How long after the heal (µs) the admitted rate, a second at a time, stays within 10 % of the
     * exact bucket's until the end; the span after the heal if it never does.
     */
    static long converged(Result r, long healed) {
        Scenario sc = r.scenario();
        long end = sc.warmupMicros() + sc.measureMicros();
        long last = healed;
        for (long from = healed; from + 1_000_000 <= end; from += 1_000_000) {
            int mine = Result.count(r.admittedAt(), from, from + 1_000_000);
            int exact = Result.count(r.exactAt(), from, from + 1_000_000);
            if (Math.abs(mine - exact) > 0.1 * Math.max(1, exact)) {
                last = from + 1_000_000;
            }
        }
        return last - healed;
    }

    /** What {@code times} (sorted) hold from {@link #START} on, every 100 ms for {@code seconds}: {seconds since, count}. */
    static double[][] cumulativeOf(long[] times, long seconds) {
        int steps = (int) seconds * 10;
        double[][] points = new double[steps + 1][];
        for (int i = 0; i <= steps; i++) {
            long t = START + i * 100_000L;
            points[i] = new double[] {i / 10.0, Result.count(times, START, t)};
        }
        return points;
    }

    /** The allowance burst + L·t over {@code seconds} from the start, as two points. */
    static double[][] envelope(Scenario sc, long seconds) {
        return new double[][] {
            {0, sc.limit()}, {seconds, sc.limit() + (double) sc.limit() * seconds * 1_000_000 / sc.windowMicros()}
        };
    }
}
