package dev.sluice.chaos;

import java.util.List;

/**
 * One scenario × failure mode of a report. Times in ms; -1 where a figure does not apply.
 *
 * @param sent checks of this mode sent while the fault was on
 * @param admitted of those, answered 200
 * @param degraded of those, answered by the failure mode ({@code degraded: true})
 * @param admittedDegraded admitted by the failure mode
 * @param bound the most admissions the mode may make by itself during the fault: open all it is
 *     sent, closed 0, local the sum of the nodes' shares per outage
 * @param errors answers that are errors: no answer, or a 5xx other than the 503 of {@code closed}
 * @param wrong degraded answers the mode must not give (open: not 200; closed: not 503; local: not
 *     200 or 429)
 * @param pingP99Ms the p99 of the no-op pings sent during the same window (the HTTP path and host alone)
 * @param allowedP99Ms the p99 a faulted row may reach: budget + margin + pingP99Ms
 * @param detectMs from the fault to the first degraded answer
 * @param recoverMs from the end of the fault (or, for a failover, from the kill) until the store
 *     decides again (the first of ten decisions in a row by the store)
 * @param limit the subject's limit (local: for the reconciliation check)
 * @param admittedTotal local: every admission of the subject over the run, store's and local
 * @param remainingAfter local: what the store says is left after reconciliation
 * @param failures every expectation this row broke; empty when it passed
 */
record Row(
        String scenario,
        String mode,
        int sent,
        int admitted,
        int degraded,
        int admittedDegraded,
        long bound,
        int errors,
        int wrong,
        double p50Ms,
        double p99Ms,
        double maxMs,
        double pingP99Ms,
        double allowedP99Ms,
        long detectMs,
        long recoverMs,
        long limit,
        long admittedTotal,
        long remainingAfter,
        List<String> failures) {

    boolean passed() {
        return failures.isEmpty();
    }
}
