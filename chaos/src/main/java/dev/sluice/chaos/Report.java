package dev.sluice.chaos;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The rows of a run, written as markdown (for people) and JSON (for tools). */
public record Report(ChaosRun.Settings settings, int proxies, List<Row> rows, List<String> skipped) {

    public boolean passed() {
        return rows.stream().allMatch(Row::passed);
    }

    public List<String> failures() {
        return rows.stream()
                .flatMap(r -> r.failures().stream().map(f -> r.scenario() + " × " + r.mode() + ": " + f))
                .toList();
    }

    /** Writes {@code chaos-report.md} and {@code chaos-report.json} into {@code dir}. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("chaos-report.md"), markdown());
        Files.writeString(dir.resolve("chaos-report.json"), json());
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Chaos report\n\n");
        md.append("- When: ")
                .append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
                .append('\n');
        md.append("- Target: ")
                .append(settings.target())
                .append("; Toxiproxy: ")
                .append(settings.toxiproxy())
                .append(" (")
                .append(proxies)
                .append(" Redis proxies faulted)\n");
        md.append("- Load: ")
                .append(settings.rate())
                .append(" checks/s, open loop, one subject per mode; fault on for ")
                .append(settings.fault().toMillis())
                .append(" ms; budget ")
                .append(settings.budgetMs())
                .append(
                        " ms, p99 (of the checks that started after the detection time: budget + busy probe timeout) allowed up to budget + ")
                .append(settings.marginMs())
                .append(" ms + the p99 of the no-op pings sent meanwhile (what the HTTP path and the host alone"
                        + " took), each check before it up to budget + the busy probe timeout ")
                .append(ChaosRun.BUSY_PROBE_TIMEOUT_MS)
                .append(" ms + margin + the pings' p99; recovery bound ")
                .append(settings.recoverBound().toMillis())
                .append(" ms\n");
        md.append("- Result: ")
                .append(passed() ? "**PASSED**" : "**FAILED**")
                .append(" (")
                .append(rows.size())
                .append(" rows)\n\n");
        md.append("Columns: checks *sent* while the fault was on (for a failover: from the kill until Redis decided"
                + " again), of them *admitted* (200) and *degraded* (answered by the failure mode); *by itself* ="
                + " admitted by the failure mode, against its *bound* (open: all; closed: 0; local: the nodes' shares"
                + " per outage); *errors* = no answer or an unintended 5xx; p50/max latency (ms) during the fault, p99 after the detection time;"
                + " *ping p99* = the no-op `POST /v1/ping` sent alongside (the HTTP path and the host alone);"
                + " *detect* = fault → first degraded answer; *recover* = fault end (failover: kill) → Redis decides"
                + " again (the first of 10 store decisions in a row); *reconciled* (local) = what Redis shows left after the outage ≤ limit − every"
                + " admission.\n\n");
        md.append("| scenario | mode | sent | admitted | degraded | by itself / bound | errors | p50 | p99 | max"
                + " | ping p99 | detect | recover | reconciled | result |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Row r : rows) {
            md.append("| ")
                    .append(r.scenario())
                    .append(" | ")
                    .append(r.mode())
                    .append(" | ")
                    .append(r.sent())
                    .append(" | ")
                    .append(r.admitted())
                    .append(" | ")
                    .append(r.degraded())
                    .append(" | ")
                    .append(r.admittedDegraded())
                    .append(" / ")
                    .append(r.bound())
                    .append(" | ")
                    .append(r.errors())
                    .append(" | ")
                    .append(ms(r.p50Ms()))
                    .append(" | ")
                    .append(ms(r.p99Ms()))
                    .append(" | ")
                    .append(ms(r.maxMs()))
                    .append(" | ")
                    .append(ms(r.pingP99Ms()))
                    .append(" | ")
                    .append(time(r.detectMs()))
                    .append(" | ")
                    .append(time(r.recoverMs()))
                    .append(" | ")
                    .append(reconciled(r))
                    .append(" | ")
                    .append(r.passed() ? "ok" : "**" + String.join("; ", r.failures()) + "**")
                    .append(" |\n");
        }
        if (!skipped.isEmpty()) {
            md.append("\nSkipped: ").append(String.join("; ", skipped)).append('\n');
        }
        return md.toString();
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String time(long v) {
        return v < 0 ? "–" : v + " ms";
    }

    private static String reconciled(Row r) {
        if (!r.mode().equals("local")) {
            return "–";
        }
        return r.remainingAfter() + " left ≤ " + Math.max(0, r.limit() - r.admittedTotal()) + " (" + r.limit() + " − "
                + r.admittedTotal() + ")";
    }

    public String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("when", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        root.put("target", settings.target().toString());
        root.put("toxiproxy", settings.toxiproxy().toString());
        root.put("ratePerSecond", settings.rate());
        root.put("faultMs", settings.fault().toMillis());
        root.put("budgetMs", settings.budgetMs());
        root.put("marginMs", settings.marginMs());
        root.put("recoverBoundMs", settings.recoverBound().toMillis());
        root.put("passed", passed());
        root.put("rows", rows);
        root.put("skipped", skipped);
        return new GsonBuilder().setPrettyPrinting().create().toJson(root);
    }
}
