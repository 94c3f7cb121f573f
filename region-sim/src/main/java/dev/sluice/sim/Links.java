package dev.sluice.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code links}: lossy and jittery links between the regions, no partition — each message (a
 * shipment, a probe, or its answer) lost with a chance of 0–50 %, each one-way delay varying by
 * ± 10 or ± 70 ms around 75 ms (R = 3, S = 1 s, W = 1 s, offered 2 × L, 33/33/33 or 80/10/10, Poisson):
 * O and FR per policy (links.csv), and FR against the loss.
 */
final class Links {
    static final double[] LOSS = {0, 0.01, 0.05, 0.1, 0.3, 0.5};
    static final double[] QUICK_LOSS = {0, 0.1, 0.5};
    static final long[] JITTER_MS = {10, 70};

    private Links() {}

    private static Map<String, double[][]> points(Map<String, List<double[]>> in) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        in.forEach((k, v) -> out.put(k, v.toArray(double[][]::new)));
        return out;
    }

    static Scenario scenario(Scenario.Mode mode, double loss, long jitterMs, Traffic traffic) {
        return new Scenario(
                mode,
                3,
                2,
                1_000_000,
                150_000,
                jitterMs * 1000,
                loss,
                1_000_000,
                100,
                2,
                traffic,
                true,
                List.of(),
                10_000_000,
                60_000_000,
                0.05);
    }

    static List<Result> run(Main.Options o) throws IOException {
        List<Result> results = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        Map<String, List<double[]>> fr = new LinkedHashMap<>();
        Map<String, List<double[]>> span = new LinkedHashMap<>();
        long seed = o.seed() + 5_000;
        for (String spread : List.of("33/33/33", "80/10/10")) {
            Traffic traffic = spread.equals("33/33/33") ? Traffic.uniform() : Traffic.skewed(0.8, 0.1, 0.1);
            for (long jitter : JITTER_MS) {
                for (double loss : o.quick() ? QUICK_LOSS : LOSS) {
                    seed++;
                    for (Scenario.Mode mode : Scenario.Mode.values()) {
                        Result r = Simulation.run(scenario(mode, loss, jitter, traffic), seed);
                        results.add(r);
                        rows.add(String.format(Locale.ROOT, "%s,%.2f,%d,", spread, loss, jitter) + Csv.row(r));
                        String series = mode.label() + ", " + spread + ", jitter ± " + jitter + " ms";
                        if (mode == Scenario.Mode.SLUICE) {
                            fr.computeIfAbsent(series, k -> new ArrayList<>())
                                    .add(new double[] {100 * loss, r.falseRejects()});
                        }
                        if (mode != Scenario.Mode.STATIC && jitter == JITTER_MS[0]) {
                            span.computeIfAbsent(series, k -> new ArrayList<>())
                                    .add(new double[] {100 * loss, r.overSpan()});
                        }
                    }
                }
            }
        }
        Csv.writeRows(o.out().resolve("links.csv"), "spread,loss,jitter_ms," + Csv.HEADER, rows);
        Charts.panels(
                o.out().resolve("links-fr"),
                "Lossy links (R = 3, 2 × L, S = 1 s, RTT 150 ms): Sluice's FR, and O over the span beside counter"
                        + " replication",
                "messages lost (%)",
                false,
                List.of(
                        new Charts.Panel(
                                "Sluice's FR (0.01 = 1 %)", points(fr), Map.of(0.01, "issue 18's target: FR ≤ 1 %")),
                        new Charts.Panel("O over the whole span", points(span), Map.of(0.0, "the allowance: O ≤ 0"))));
        return results;
    }
}
