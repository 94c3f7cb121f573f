package dev.sluice.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Experiment 2, {@code skew}: how the load is spread and how it moves — 33/33/33 to 98/1/1, follow
 * the sun, and a step of one region from 0 to 100 % of the load — at S = 1 s, RTT 150 ± 10 ms,
 * R = 3, W = 1 s, offered 2 × L, for each policy: O and FR per spread (skew.csv), FR against the hot
 * region's fraction, and the admitted rate over time through the step and through a (compressed,
 * 60 s) day.
 */
final class Skew {
    /** The traffic of each row: its name, the hot region's fraction (NaN: moves), and the shape. */
    record Spread(String name, double hot, Traffic traffic) {}

    static final long WARMUP = 10_000_000;
    static final long MEASURE = 60_000_000;
    static final long STEP_AT = WARMUP + 20_000_000;

    private Skew() {}

    static List<Spread> spreads() {
        return List.of(
                new Spread("33/33/33", 1.0 / 3, Traffic.uniform()),
                new Spread("50/25/25", 0.5, Traffic.skewed(0.5, 0.25, 0.25)),
                new Spread("80/10/10", 0.8, Traffic.skewed(0.8, 0.1, 0.1)),
                new Spread("90/5/5", 0.9, Traffic.skewed(0.9, 0.05, 0.05)),
                new Spread("98/1/1", 0.98, Traffic.skewed(0.98, 0.01, 0.01)),
                new Spread("follow-the-sun (60 s day)", Double.NaN, Traffic.followTheSun(60_000_000)),
                new Spread(
                        "step: 0/50/50 then 100/0/0",
                        Double.NaN,
                        Traffic.step(Traffic.skewed(0, 0.5, 0.5), Traffic.skewed(1, 0, 0), STEP_AT)));
    }

    static Scenario scenario(Scenario.Mode mode, Traffic traffic) {
        return new Scenario(
                mode, 3, 2, 1_000_000, 150_000, 10_000, 0, 1_000_000, 100, 2, traffic, true, List.of(), WARMUP, MEASURE,
                0.05);
    }

    static List<Result> run(Main.Options o) throws IOException {
        List<Result> results = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        Map<String, Map<Scenario.Mode, Result>> bySpread = new LinkedHashMap<>();
        long seed = o.seed() + 1_000;
        for (Spread spread : spreads()) {
            seed++;
            for (Scenario.Mode mode : Scenario.Mode.values()) {
                Result r = Simulation.run(scenario(mode, spread.traffic()), seed);
                results.add(r);
                rows.add('"' + spread.name() + "\"," + Csv.row(r));
                bySpread.computeIfAbsent(spread.name(), k -> new LinkedHashMap<>())
                        .put(mode, r);
            }
        }
        Csv.writeRows(o.out().resolve("skew.csv"), "traffic," + Csv.HEADER, rows);
        // FR against the hot region's fraction
        Map<String, double[][]> fr = new LinkedHashMap<>();
        for (Scenario.Mode mode : Scenario.Mode.values()) {
            List<double[]> points = new ArrayList<>();
            for (Spread spread : spreads()) {
                if (!Double.isNaN(spread.hot())) {
                    points.add(new double[] {
                        spread.hot(), bySpread.get(spread.name()).get(mode).falseRejects()
                    });
                }
            }
            fr.put(mode.label(), points.toArray(double[][]::new));
        }
        Charts.lines(
                o.out().resolve("skew-fr"),
                "False rejects against skew: R = 3, S = 1 s, RTT 150 ms, W = 1 s, offered 2 × L",
                "the hot region's fraction of the load",
                "FR (fraction of the checks)",
                fr,
                false,
                Map.of(0.01, "issue 18's target: FR ≤ 1 %"));
        for (Spread spread : spreads()) {
            if (Double.isNaN(spread.hot())) {
                String file = spread.name().startsWith("step") ? "skew-step" : "skew-sun";
                Charts.lines(
                        o.out().resolve(file),
                        "Admitted a second over all regions, " + spread.name() + " (L = 100 a second)",
                        "time (s)",
                        "admitted per second",
                        rates(bySpread.get(spread.name())),
                        false,
                        Map.of(100.0, "L"));
            }
        }
        return results;
    }

    /** Admitted per second over the measured span, per policy, and the exact bucket's. */
    static Map<String, double[][]> rates(Map<Scenario.Mode, Result> runs) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        Result any = runs.values().iterator().next();
        out.put("one exact bucket", perSecond(any.scenario(), any.exactAt()));
        runs.forEach((mode, r) -> out.put(mode.label(), perSecond(r.scenario(), r.admittedAt())));
        return out;
    }

    static double[][] perSecond(Scenario sc, long[] times) {
        int seconds = (int) (sc.measureMicros() / 1_000_000);
        double[][] points = new double[seconds][];
        for (int i = 0; i < seconds; i++) {
            long from = sc.warmupMicros() + i * 1_000_000L;
            points[i] = new double[] {from / 1e6, Result.count(times, from, from + 1_000_000)};
        }
        return points;
    }
}
