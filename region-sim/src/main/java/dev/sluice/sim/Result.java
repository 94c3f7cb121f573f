package dev.sluice.sim;

import java.util.Arrays;

/**
 * What one run measured over its measured span: checks, admitted, what one exact bucket fed the same
 * checks admitted, O over the span and over every window of W (p50, p99, max), FR, and the times of
 * the admissions (the run's and the exact bucket's), the region of each admission, and the units
 * charged to the stores by reconciliations after an outage.
 *
 * <p>O = (admitted − allowance) / allowance, with allowance = burst + L·T/W over a span T (for a
 * window of W: 2·L); FR = how many more checks the exact bucket admitted, as a fraction of the checks
 * (0 when the run admitted as many or more).
 */
public record Result(
        Scenario scenario,
        long checks,
        long admitted,
        long exactAdmitted,
        double overSpan,
        double overP50,
        double overP99,
        double overMax,
        double falseRejects,
        long[] admittedAt,
        long[] exactAt,
        int[] admittedIn,
        long[] regionChecks,
        long[] regionAdmitted,
        long messages,
        long charged,
        double checksPerSecond) {

    /** How many windows of W a run's span is cut into, per W: each starts W/20 after the one before. */
    static final int WINDOW_STEPS = 20;

    /** The measured figures of a run on a bucket of {@code burst} (L in the scenarios of regions): its allowance is burst + L·T/W. */
    static Result of(
            Scenario sc,
            long burst,
            long checks,
            long admitted,
            long exactAdmitted,
            long[] admittedAt,
            long[] exactAt,
            int[] admittedIn,
            long[] regionChecks,
            long[] regionAdmitted,
            long messages,
            long charged,
            double checksPerSecond) {
        double l = sc.limit();
        double allowance = burst + l * sc.measureMicros() / sc.windowMicros();
        double overSpan = admitted / allowance - 1;
        double[] windows = windows(sc, admittedAt, burst);
        double p50 = windows.length == 0 ? Double.NaN : percentile(windows, 0.50);
        double p99 = windows.length == 0 ? Double.NaN : percentile(windows, 0.99);
        double max = windows.length == 0 ? Double.NaN : windows[windows.length - 1];
        double fr = checks == 0 ? 0 : Math.max(0, exactAdmitted - admitted) / (double) checks;
        return new Result(
                sc,
                checks,
                admitted,
                exactAdmitted,
                overSpan,
                p50,
                p99,
                max,
                fr,
                admittedAt,
                exactAt,
                admittedIn,
                regionChecks.clone(),
                regionAdmitted.clone(),
                messages,
                charged,
                checksPerSecond);
    }

    /** O of every window of W within the measured span (starts W/20 apart), sorted; the bucket's burst {@code burst}. */
    static double[] windows(Scenario sc, long[] admittedAt, long burst) {
        long from = sc.warmupMicros();
        return windows(admittedAt, from, from + sc.measureMicros(), sc.windowMicros(), (double) burst + sc.limit());
    }

    /**
     * O of every window of {@code w} µs in [from, to) (starts w/20 apart), sorted: what {@code
     * admittedAt} (sorted) holds in it against {@code allowance}.
     */
    static double[] windows(long[] admittedAt, long from, long to, long w, double allowance) {
        long step = Math.max(1, w / WINDOW_STEPS);
        int count = to - from < w ? 0 : (int) ((to - from - w) / step) + 1;
        double[] out = new double[count];
        int lo = 0;
        int hi = 0;
        for (int i = 0; i < count; i++) {
            long start = from + i * step;
            while (lo < admittedAt.length && admittedAt[lo] < start) {
                lo++;
            }
            if (hi < lo) {
                hi = lo;
            }
            while (hi < admittedAt.length && admittedAt[hi] < start + w) {
                hi++;
            }
            out[i] = (hi - lo) / allowance - 1;
        }
        Arrays.sort(out);
        return out;
    }

    /** The nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** How many of {@code times} (sorted) fall in [from, to). */
    static int count(long[] times, long from, long to) {
        int lo = java.util.Arrays.binarySearch(times, from);
        lo = lo < 0 ? -lo - 1 : first(times, lo);
        int hi = java.util.Arrays.binarySearch(times, to);
        hi = hi < 0 ? -hi - 1 : first(times, hi);
        return Math.max(0, hi - lo);
    }

    private static int first(long[] times, int i) {
        while (i > 0 && times[i - 1] == times[i]) {
            i--;
        }
        return i;
    }
}
