package dev.sluice.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Experiment 1, {@code grid}: O (p50, p99) and FR against the sync period S, the round trip, the
 * number of regions R and the window W, at offered loads of 1–5 × L, uniform traffic, for Sluice's
 * shares beside plain counter replication and a static L/R split. One CSV row per grid point and
 * policy; one chart per W (R = 3, RTT 150 ms: O_p99 and O_p50 against S at the highest load, FR at
 * 2 × L), the shares' bound and the published reference points marked; and one of Sluice's FR
 * against S by round trip and by number of regions, with counter replication's O_p99 by regions.
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
    static final double[] QUICK_LOADS = {2, 5};

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
            List<Result> at = results.stream()
                    .filter(x -> x.scenario().windowMicros() == w * 1_000_000
                            && x.scenario().regions() == 3
                            && x.scenario().rttMicros() == 150_000)
                    .toList();
            double high =
                    at.stream().mapToDouble(x -> x.scenario().load()).max().orElse(2);
            Charts.panels(
                    o.out().resolve("grid-w" + w + "s"),
                    "R = 3, RTT 150 ms, W = " + w + " s: O_p99 and O_p50 at " + trim(high)
                            + " × L offered, FR at 2 × L",
                    "sync period S (ms)",
                    true,
                    List.of(
                            new Charts.Panel(
                                    "O_p99 at " + trim(high) + " × L",
                                    perPolicy(at, high, Result::overP99),
                                    REFERENCES),
                            new Charts.Panel(
                                    "O_p50 at " + trim(high) + " × L",
                                    perPolicy(at, high, Result::overP50),
                                    Map.of(0.0, "bound of the shares: O ≤ 0")),
                            new Charts.Panel(
                                    "FR at 2 × L", perPolicy(at, 2, Result::falseRejects), Map.of(0.01, "FR 1 %"))));
        }
        // Sluice's FR against S by round trip and by number of regions; counter replication's O_p99 by regions
        long w1 = windows[0] * 1_000_000;
        Map<String, double[][]> byRtt = new LinkedHashMap<>();
        for (long rtt : rtts) {
            byRtt.put(
                    "RTT " + rtt + " ms", against(results, Scenario.Mode.SLUICE, 3, rtt, w1, 2, Result::falseRejects));
        }
        Map<String, double[][]> byRegions = new LinkedHashMap<>();
        Map<String, double[][]> replication = new LinkedHashMap<>();
        double top = java.util.Arrays.stream(loads).max().orElse(2);
        for (int r : regions) {
            byRegions.put("R = " + r, against(results, Scenario.Mode.SLUICE, r, 150, w1, 2, Result::falseRejects));
            replication.put(
                    "R = " + r + ", replication",
                    against(results, Scenario.Mode.REPLICATION, r, 150, w1, top, Result::overP99));
        }
        Charts.panels(
                o.out().resolve("grid-rtt-regions"),
                "W = " + windows[0]
                        + " s: Sluice's FR by round trip and by regions; counter replication's O_p99 by regions",
                "sync period S (ms)",
                true,
                List.of(
                        new Charts.Panel("Sluice FR, R = 3, 2 × L", byRtt, Map.of(0.01, "FR 1 %")),
                        new Charts.Panel("Sluice FR, RTT 150 ms, 2 × L", byRegions, Map.of(0.01, "FR 1 %")),
                        new Charts.Panel(
                                "replication O_p99, RTT 150 ms, " + trim(top) + " × L",
                                replication,
                                Map.of(0.0, "bound of the shares: O ≤ 0"))));
        return results;
    }

    /** The published reference points, and the shares' bound. */
    static final Map<Double, String> REFERENCES = Map.of(
            0.0, "bound of the shares: O ≤ 0",
            0.05, "Databricks ~5 % (100 ms reports)",
            0.06, "Cloudflare 6 %",
            0.10, "Akamai 10 %",
            0.20, "Akamai 20 % (1–3 s sharing)");

    /** Per policy, {S in ms, metric} at {@code load} among {@code at}. */
    private static Map<String, double[][]> perPolicy(List<Result> at, double load, ToDoubleFunction<Result> metric) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        for (Scenario.Mode mode : Scenario.Mode.values()) {
            out.put(
                    mode.label(),
                    at.stream()
                            .filter(x ->
                                    x.scenario().mode() == mode && x.scenario().load() == load)
                            .sorted(Comparator.comparingLong(x -> x.scenario().syncMicros()))
                            .map(x -> new double[] {x.scenario().syncMicros() / 1000.0, metric.applyAsDouble(x)})
                            .toArray(double[][]::new));
        }
        return out;
    }

    /** {S in ms, metric} of one policy at one point of the other coordinates. */
    private static double[][] against(
            List<Result> results,
            Scenario.Mode mode,
            int regions,
            long rttMs,
            long windowMicros,
            double load,
            ToDoubleFunction<Result> metric) {
        return results.stream()
                .filter(x -> x.scenario().mode() == mode
                        && x.scenario().regions() == regions
                        && x.scenario().rttMicros() == rttMs * 1000
                        && x.scenario().windowMicros() == windowMicros
                        && x.scenario().load() == load)
                .sorted(Comparator.comparingLong(x -> x.scenario().syncMicros()))
                .map(x -> new double[] {x.scenario().syncMicros() / 1000.0, metric.applyAsDouble(x)})
                .toArray(double[][]::new);
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
