package dev.sluice.sim;

import dev.sluice.config.FailureMode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Experiment 4, {@code outage}: region r0's Redis does not answer for T ∈ {1 s, 10 s, 60 s, 5 min}
 * while the other two carry on (R = 3 of three nodes each, S = 1 s, RTT 150 ± 10 ms, W = 1 s, offered
 * 2 × L, spread 33/33/33 or 80/10/10 with r0 the busy region), under each failure mode of the global
 * policy — {@code open}, {@code closed}, {@code local} (Sluice's: the region's last known share,
 * divided among its nodes, then reconciled) and, for comparison, a {@code local} fallback on the whole
 * limit (what a limiter without shares has). Per run (outage.csv): what all regions admitted during the
 * outage against its allowance (burst + L·T/W), what r0 admitted, the units charged back to r0's
 * store after it, what all regions admitted in the 5 s after it against that span's allowance, and
 * how long after it the admitted rate is back within 10 % of one exact bucket's for good; the
 * cumulative admitted through a 60 s outage, and the share of the allowance against T. Also a store
 * that flaps for 60 s (down 1 s, up 1 s; and 5 s each), so that each node reconciles and seeds its
 * local bucket again and again.
 */
final class Outages {
    static final long[] SECONDS = {1, 10, 60, 300};
    static final long[] QUICK_SECONDS = {1, 10, 60};
    /** When r0's Redis fails: as a partition starts (the cumulative plots count from it). */
    static final long START = Partitions.START;

    static final long AFTER = 30_000_000;

    /** A store that flaps for 60 s: down and up in turn, each for this long (µs). */
    static final long[] FLAPS = {1_000_000, 5_000_000};

    /** The failure modes compared: Sluice's three, and {@code local} on the whole limit. */
    static final List<Scenario.Outage> MODES = List.of(
            new Scenario.Outage(0, 0, 0, FailureMode.OPEN, false),
            new Scenario.Outage(0, 0, 0, FailureMode.CLOSED, false),
            new Scenario.Outage(0, 0, 0, FailureMode.LOCAL, false),
            new Scenario.Outage(0, 0, 0, FailureMode.LOCAL, true));

    private Outages() {}

    static Scenario scenario(Scenario.Outage mode, Traffic traffic, long seconds) {
        return scenario(mode, traffic, seconds, 0);
    }

    /** The same with the store flapping every {@code flapMicros} within the span (0: down throughout). */
    static Scenario scenario(Scenario.Outage mode, Traffic traffic, long seconds, long flapMicros) {
        long t = seconds * 1_000_000;
        return new Scenario(
                        Scenario.Mode.SLUICE,
                        3,
                        3,
                        1_000_000,
                        150_000,
                        10_000,
                        0,
                        1_000_000,
                        100,
                        2,
                        traffic,
                        true,
                        List.of(),
                        START,
                        t + AFTER,
                        0.05)
                .with(new Scenario.Outage(0, START, START + t, mode.failure(), mode.wholeLimit(), flapMicros));
    }

    static List<Result> run(Main.Options o) throws IOException {
        List<Result> results = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        Map<String, double[][]> cumulative = new LinkedHashMap<>();
        Map<String, List<double[]>> ofAllowance = new LinkedHashMap<>();
        long seed = o.seed() + 3_000;
        long flapSeed = o.seed() + 3_500; // apart: the runs of a solid outage keep their seeds
        long[] spans = o.quick() ? QUICK_SECONDS : SECONDS;
        for (String spread : List.of("33/33/33", "80/10/10")) {
            Traffic traffic = spread.equals("33/33/33") ? Traffic.uniform() : Traffic.skewed(0.8, 0.1, 0.1);
            List<long[]> runs = new ArrayList<>(); // {seconds, flap µs}
            for (long seconds : spans) {
                runs.add(new long[] {seconds, 0});
            }
            for (long flap : FLAPS) {
                runs.add(new long[] {60, flap});
            }
            for (long[] run : runs) {
                long seconds = run[0];
                long flap = run[1];
                long runSeed = flap == 0 ? ++seed : ++flapSeed;
                for (Scenario.Outage mode : MODES) {
                    Scenario sc = scenario(mode, traffic, seconds, flap);
                    Result r = Simulation.run(sc, runSeed);
                    results.add(r);
                    long healed = START + seconds * 1_000_000;
                    int during = Result.count(r.admittedAt(), START, healed);
                    int mine = regionCount(r, 0, START, healed);
                    double allowance = sc.limit() + (double) sc.limit() * seconds * 1_000_000 / sc.windowMicros();
                    int after = Result.count(r.admittedAt(), healed, healed + 5_000_000);
                    double afterAllowance = sc.limit() + (double) sc.limit() * 5_000_000 / sc.windowMicros();
                    rows.add(String.format(
                                    Locale.ROOT,
                                    "%d,%s,%s,%d,%.4f,%d,%d,%.4f,%.3f,%s,",
                                    seconds,
                                    spread,
                                    mode.label(),
                                    during,
                                    during / allowance,
                                    mine,
                                    r.charged(),
                                    after / afterAllowance,
                                    Partitions.converged(r, healed) / 1e6,
                                    flap == 0 ? "down" : "flapping every " + flap / 1_000_000 + " s")
                            + Csv.row(r));
                    if (flap != 0) {
                        continue;
                    }
                    ofAllowance
                            .computeIfAbsent(mode.label() + ", " + spread, k -> new ArrayList<>())
                            .add(new double[] {seconds, during / allowance});
                    if (seconds == 60 && spread.equals("33/33/33")) {
                        if (cumulative.isEmpty()) {
                            cumulative.put("envelope burst + L·t", Partitions.envelope(sc, seconds));
                            cumulative.put("one exact bucket", Partitions.cumulativeOf(r.exactAt(), seconds));
                        }
                        cumulative.put(mode.label(), Partitions.cumulativeOf(r.admittedAt(), seconds));
                    }
                }
            }
        }
        Csv.writeRows(
                o.out().resolve("outage.csv"),
                "outage_s,spread,failure_mode,admitted_during,of_allowance,r0_admitted_during,charged_after,"
                        + "after_5s_of_allowance,converged_s,store,"
                        + Csv.HEADER,
                rows);
        if (!cumulative.isEmpty()) {
            Charts.lines(
                    o.out().resolve("outage-60s"),
                    "r0's Redis down for 60 s (33/33/33, 2 × L offered): admitted since it failed, all regions",
                    "seconds since r0's Redis failed",
                    "admitted since r0's Redis failed",
                    cumulative,
                    false,
                    Map.of());
        }
        Map<String, double[][]> lines = new LinkedHashMap<>();
        ofAllowance.forEach((k, v) -> lines.put(k, v.toArray(double[][]::new)));
        Charts.lines(
                o.out().resolve("outage-allowance"),
                "Admitted during r0's Redis outage, all regions, of the allowance burst + L·T",
                "outage T (s)",
                "admitted / allowance",
                lines,
                true,
                Map.of(1.0, "the allowance", 1.10, "issue 18's partition target 1.10"));
        return results;
    }

    /** How many of region {@code region}'s admissions fall in [from, to). */
    static int regionCount(Result r, int region, long from, long to) {
        int count = 0;
        long[] at = r.admittedAt();
        int[] in = r.admittedIn();
        for (int i = 0; i < at.length; i++) {
            if (in[i] == region && at[i] >= from && at[i] < to) {
                count++;
            }
        }
        return count;
    }
}
