package dev.sluice.sim;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code bin/region-sim <experiment> [--quick] [--seed N] [--out DIR]}: runs one experiment (or
 * {@code all}), writes {@code <out>/<experiment>.csv} and its plots, and reports how many simulated
 * checks a second it decided.
 */
public final class Main {
    /** The command line. */
    record Options(String experiment, boolean quick, long seed, Path out) {}

    /** The experiments, and all of them. */
    static final List<String> EXPERIMENTS = List.of("grid", "skew", "partition", "outage", "hotkey", "links", "all");

    private Main() {}

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(
                    "usage: bin/region-sim <" + String.join("|", EXPERIMENTS) + "> [--quick] [--seed N] [--out DIR]");
            System.exit(2);
            return;
        }
        long started = System.nanoTime();
        List<Result> results = new java.util.ArrayList<>();
        if (o.experiment().equals("grid") || o.experiment().equals("all")) {
            results.addAll(Grid.run(o));
        }
        if (o.experiment().equals("skew") || o.experiment().equals("all")) {
            results.addAll(Skew.run(o));
        }
        if (o.experiment().equals("partition") || o.experiment().equals("all")) {
            results.addAll(Partitions.run(o));
        }
        if (o.experiment().equals("outage") || o.experiment().equals("all")) {
            results.addAll(Outages.run(o));
        }
        if (o.experiment().equals("hotkey") || o.experiment().equals("all")) {
            results.addAll(HotKey.run(o));
        }
        if (o.experiment().equals("links") || o.experiment().equals("all")) {
            results.addAll(Links.run(o));
        }
        double wall = (System.nanoTime() - started) / 1e9;
        long checks = results.stream().mapToLong(Main::decided).sum();
        double busy = results.stream()
                .mapToDouble(r -> decided(r) / r.checksPerSecond())
                .sum();
        System.out.printf(
                Locale.ROOT,
                "region-sim %s%s: %d runs, %,d simulated checks in %.1f s; %.2f million checks a second on one core%n",
                o.experiment(),
                o.quick() ? " --quick" : "",
                results.size(),
                checks,
                wall,
                checks / busy / 1e6);
        System.out.println("wrote " + o.out().toAbsolutePath());
    }

    /** The checks a run decided, warm-up included. */
    static long decided(Result r) {
        Scenario s = r.scenario();
        return Math.round(s.load() * s.limit() * (s.warmupMicros() + s.measureMicros()) / s.windowMicros());
    }

    static Options parse(String[] args) {
        String experiment = null;
        boolean quick = false;
        long seed = 1;
        Path out = Path.of("region-sim", "results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--seed" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--seed: needs a number");
                    }
                    try {
                        seed = Long.parseLong(args[++i]);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--seed: must be a whole number, was " + args[i]);
                    }
                }
                case "--out" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--out: needs a directory");
                    }
                    out = Path.of(args[++i]);
                }
                default -> {
                    if (args[i].startsWith("--") || experiment != null) {
                        throw new IllegalArgumentException("unknown argument: " + args[i]);
                    }
                    experiment = args[i];
                }
            }
        }
        if (experiment == null) {
            throw new IllegalArgumentException("which experiment?");
        }
        if (!EXPERIMENTS.contains(experiment)) {
            throw new IllegalArgumentException(
                    "unknown experiment: " + experiment + " (" + String.join(", ", EXPERIMENTS) + ")");
        }
        return new Options(experiment, quick, seed, out);
    }
}
