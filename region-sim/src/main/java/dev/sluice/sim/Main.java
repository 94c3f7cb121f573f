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

    static final String USAGE = "usage: bin/region-sim <" + String.join("|", EXPERIMENTS)
            + "> [--quick] [--seed N] [--out DIR]\n"
            + "  --quick   a few points of each experiment (what CI runs)\n"
            + "  --seed N  the runs' seed (default 1: the committed results)\n"
            + "  --out DIR where the CSVs and plots go (default region-sim/results, with --quick"
            + " region-sim/target/quick)";

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(USAGE);
            return;
        }
        Options o;
        try {
            o = parse(args);
            prepare(o.out());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        try {
            run(o);
        } catch (java.io.IOException e) {
            System.err.println("region-sim: could not write to " + o.out().toAbsolutePath() + ": " + e);
            System.exit(1);
        }
    }

    /**
     * The output directory made (with its parents) and checked before anything is computed: a file,
     * or a directory that cannot be written, is refused at once rather than after the runs.
     */
    static void prepare(Path out) {
        try {
            java.nio.file.Files.createDirectories(out);
        } catch (java.io.IOException | SecurityException e) {
            throw new IllegalArgumentException("--out: cannot make the directory " + out.toAbsolutePath()
                    + (java.nio.file.Files.exists(out) ? " (a file is there)" : " (" + e.getMessage() + ")"));
        }
        if (!java.nio.file.Files.isDirectory(out) || !java.nio.file.Files.isWritable(out)) {
            throw new IllegalArgumentException("--out: not a writable directory: " + out.toAbsolutePath());
        }
        // a file written and removed again (isWritable says yes to root, and to /proc), and no output's
        // name taken by a directory
        try {
            java.nio.file.Path probe = java.nio.file.Files.createTempFile(out, ".region-sim", ".probe");
            java.nio.file.Files.delete(probe);
        } catch (java.io.IOException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(
                    "--out: cannot write in " + out.toAbsolutePath() + " (" + e.getMessage() + ")");
        }
        try (var entries = java.nio.file.Files.list(out)) {
            List<String> taken = entries.filter(java.nio.file.Files::isDirectory)
                    .map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".csv") || n.endsWith(".png") || n.endsWith(".svg"))
                    .sorted()
                    .toList();
            if (!taken.isEmpty()) {
                throw new IllegalArgumentException("--out: directories where output files go in " + out.toAbsolutePath()
                        + ": " + String.join(", ", taken));
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(
                    "--out: cannot read " + out.toAbsolutePath() + " (" + e.getMessage() + ")");
        }
    }

    private static void run(Options o) throws java.io.IOException {
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
        Path out = null;
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
                    String dir = args[++i];
                    if (dir.isBlank()) {
                        throw new IllegalArgumentException("--out: needs a directory, was empty");
                    }
                    out = Path.of(dir);
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
        if (out == null) {
            // a quick run does not overwrite the committed results of the full one
            out = quick ? Path.of("region-sim", "target", "quick") : Path.of("region-sim", "results");
        } else if (!out.isAbsolute() && System.getProperty("region-sim.cwd") != null) {
            // bin/region-sim runs from the project: a relative --out is the caller's
            out = Path.of(System.getProperty("region-sim.cwd")).resolve(out);
        }
        return new Options(experiment, quick, seed, out);
    }
}
