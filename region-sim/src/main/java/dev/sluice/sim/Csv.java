package dev.sluice.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** One row per run: the scenario's coordinates and what it measured (O and FR as fractions). */
final class Csv {
    static final String HEADER =
            "policy,regions,sync_ms,rtt_ms,window_s,load,O_p50,O_p99,O_max,O_span,FR,checks,admitted,"
                    + "exact_admitted,messages_per_s";

    private Csv() {}

    static String row(Result r) {
        Scenario s = r.scenario();
        double seconds = (s.warmupMicros() + s.measureMicros()) / 1e6;
        return String.format(
                Locale.ROOT,
                "%s,%d,%d,%d,%d,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%d,%d,%d,%.2f",
                s.mode().label(),
                s.regions(),
                s.syncMicros() / 1000,
                s.rttMicros() / 1000,
                s.windowMicros() / 1_000_000,
                trim(s.load()),
                r.overP50(),
                r.overP99(),
                r.overMax(),
                r.overSpan(),
                r.falseRejects(),
                r.checks(),
                r.admitted(),
                r.exactAdmitted(),
                r.messages() / seconds);
    }

    static void write(Path file, List<Result> results) throws IOException {
        writeRows(file, HEADER, results.stream().map(Csv::row).toList());
    }

    /** A file of the given header and rows. */
    static void writeRows(Path file, String header, List<String> rows) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        StringBuilder sb = new StringBuilder(header).append('\n');
        rows.forEach(r -> sb.append(r).append('\n'));
        Files.writeString(file, sb);
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
