package dev.sluice.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What CI runs of the simulator (issue 19): every experiment's {@code --quick} variant through the
 * command line, into target/, and issue 18's targets asserted at the reference points (S = 1 s,
 * RTT 150 ms, R = 3, offered 2 × L, Poisson arrivals): O_p99 ≤ 2 % at W = 60 s and ≤ 5 % at W = 1 s
 * with FR ≤ 1 %, and a partition of 60 s admitting at most 1.10 × its allowance; a region's Redis
 * down under {@code local} or {@code closed} admitting no more than the allowance (and {@code open}
 * more); and of a hot key's batching strategies, coalescing never over the bucket's bound, leasing
 * cutting the store calls, and counting in-process with asynchronous flushes going over.
 */
class QuickExperimentsTest {
    private static final Path OUT = Path.of("target", "region-sim-quick");

    @Test
    void everyQuickExperimentRunsAndTheSharesMeetTheTargets() throws Exception {
        Main.main(new String[] {"all", "--quick", "--out", OUT.toString()});
        for (String file : List.of(
                "grid.csv",
                "grid-w1s.png",
                "grid-w60s.svg",
                "grid-rtt-regions.png",
                "skew.csv",
                "skew-fr.png",
                "skew-step.svg",
                "partition.csv",
                "partition-60s.png",
                "outage.csv",
                "outage-60s.svg",
                "outage-allowance.png",
                "hotkey.csv",
                "hotkey-on-off-burst10.png",
                "hotkey-steady-burst1000.svg",
                "links.csv",
                "links-fr.png")) {
            assertThat(OUT.resolve(file)).as(file).exists();
            assertThat(Files.size(OUT.resolve(file))).as(file).isPositive();
        }
        List<String> grid = Files.readAllLines(OUT.resolve("grid.csv"));
        assertThat(grid.get(0)).startsWith("policy,regions,sync_ms,rtt_ms,window_s,load,O_p50,O_p99,");
        // policy,regions,sync_ms,rtt_ms,window_s,load,O_p50,O_p99,O_max,O_span,FR,...
        List<String[]> atTarget = grid.subList(1, grid.size()).stream()
                .map(r -> r.split(","))
                .filter(c -> c[1].equals("3") && c[2].equals("1000") && c[3].equals("150"))
                .toList();
        long sluice = atTarget.stream()
                .filter(c -> c[0].equals("sluice"))
                .peek(c -> {
                    double target = c[4].equals("60") ? 0.02 : 0.05;
                    assertThat(Double.parseDouble(c[7]))
                            .as("O_p99 " + String.join(",", c))
                            .isLessThanOrEqualTo(target);
                    assertThat(Double.parseDouble(c[10]))
                            .as("FR " + String.join(",", c))
                            .isLessThanOrEqualTo(0.01);
                })
                .count();
        // W = 1 s and 60 s, offered 2 and 5 x L: the targets are asserted at four points
        assertThat(sluice).isEqualTo(4);
        // and they tell the designs apart: at 5 x L counter replication misses the target at W = 1 s
        assertThat(atTarget.stream()
                        .filter(c -> c[0].equals("replication") && c[4].equals("1") && c[5].equals("5"))
                        .mapToDouble(c -> Double.parseDouble(c[7]))
                        .max()
                        .orElseThrow())
                .as("counter replication's O_p99 at 5 x L, W = 1 s")
                .isGreaterThan(0.05);
        // partition_s,link,traffic,admitted_during,of_allowance,converged_s,policy,...
        List<String[]> partitions = Files.readAllLines(OUT.resolve("partition.csv")).stream()
                .skip(1)
                .map(r -> r.split(","))
                .toList();
        long checked = partitions.stream()
                .filter(c -> c[6].equals("sluice"))
                .peek(c -> assertThat(Double.parseDouble(c[4]))
                        .as("partition of " + c[0] + " s, " + c[1] + ", " + c[2] + ": admitted of the allowance")
                        .isLessThanOrEqualTo(1.10))
                .count();
        // 3 spans x (uniform refused and black-holed, two shifts refused)
        assertThat(checked).isEqualTo(12);
        // and counter replication goes past it in the same runs, which is what the shares are for
        assertThat(partitions.stream()
                        .filter(c -> c[6].equals("replication") && c[0].equals("60") && c[2].equals("33/33/33"))
                        .mapToDouble(c -> Double.parseDouble(c[4]))
                        .max()
                        .orElseThrow())
                .isGreaterThan(1.10);
        // outage_s,spread,failure_mode,admitted_during,of_allowance,...
        List<String[]> outages = Files.readAllLines(OUT.resolve("outage.csv")).stream()
                .skip(1)
                .map(r -> r.split(","))
                .toList();
        // solid outages of each span, and 60 s of a flapping store, per spread and mode
        assertThat(outages).hasSize(2 * (Outages.QUICK_SECONDS.length + Outages.FLAPS.length) * Outages.MODES.size());
        for (String[] c : outages) {
            if (c[2].equals("local") || c[2].equals("closed")) {
                assertThat(Double.parseDouble(c[4]))
                        .as("r0's Redis " + c[9] + " for " + c[0] + " s, " + c[1] + ", " + c[2]
                                + ": admitted of the allowance")
                        .isLessThanOrEqualTo(1.0);
            }
        }
        assertThat(outages.stream()
                        .filter(c -> c[2].equals("open") && c[0].equals("60") && c[9].equals("down"))
                        .mapToDouble(c -> Double.parseDouble(c[4]))
                        .min()
                        .orElseThrow())
                .as("open admits more than the allowance through a 60 s outage")
                .isGreaterThan(1.10);
        // load_shape,strategy,window_ms,nodes,burst,store_calls,calls_per_admitted,wait_mean_ms,wait_max_ms,
        // O100_p99,O100_max,policy,...
        List<String[]> hot = Files.readAllLines(OUT.resolve("hotkey.csv")).stream()
                .skip(1)
                .map(r -> r.split(","))
                .toList();
        for (String[] c : hot) {
            if (c[1].equals("coalesce") || c[1].equals("per-check")) {
                assertThat(Double.parseDouble(c[10]))
                        .as(String.join(",", c) + ": no 100 ms window over the bucket's allowance")
                        .isLessThanOrEqualTo(0);
            }
        }
        double perCheck = calls(hot, "steady", "per-check", "0", "1000");
        double lease = calls(hot, "steady", "lease", "10", "1000");
        assertThat(perCheck).isGreaterThan(2); // 2 x L offered: every check is a call
        assertThat(lease).as("a lease of 10 ms").isLessThan(perCheck / 5);
        assertThat(hot.stream()
                        .filter(c -> c[1].equals("async") && c[0].equals("on-off"))
                        .mapToDouble(c -> Double.parseDouble(c[10]))
                        .max()
                        .orElseThrow())
                .as("counting in-process, flushed every w: a burst goes over")
                .isGreaterThan(0);
    }

    @Test
    void lossyLinksCostFalseRejectsNeverTheBound() throws Exception {
        Path out = OUT.resolve("links");
        Main.main(new String[] {"links", "--quick", "--out", out.toString()});
        // spread,loss,jitter_ms,policy,regions,sync_ms,rtt_ms,window_s,load,O_p50,O_p99,O_max,O_span,FR,...
        List<String[]> rows = Files.readAllLines(out.resolve("links.csv")).stream()
                .skip(1)
                .map(r -> r.split(","))
                .toList();
        assertThat(rows).hasSize(2 * Links.JITTER_MS.length * Links.QUICK_LOSS.length * 3);
        for (String[] c : rows) {
            if (c[3].equals("sluice")) {
                assertThat(Double.parseDouble(c[11]))
                        .as(String.join(",", c) + ": no window over the allowance")
                        .isLessThanOrEqualTo(0);
            }
        }
        // counter replication loses what a lost message carried: over the allowance at half the messages lost
        assertThat(rows.stream()
                        .filter(c -> c[3].equals("replication") && c[1].equals("0.50"))
                        .mapToDouble(c -> Double.parseDouble(c[12]))
                        .min()
                        .orElseThrow())
                .isGreaterThan(0);
    }

    private static double calls(List<String[]> hot, String shape, String strategy, String windowMs, String burst) {
        return hot.stream()
                .filter(c -> c[0].equals(shape)
                        && c[1].equals(strategy)
                        && c[2].equals(windowMs)
                        && c[3].equals("3")
                        && c[4].equals(burst))
                .mapToDouble(c -> Double.parseDouble(c[6]))
                .findFirst()
                .orElseThrow();
    }
}
