package dev.sluice.store.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How long runnable tasks of this host have waited for a CPU: Linux's pressure stall information
 * ({@code /proc/pressure/cpu}, the {@code some} line's {@code total}, in microseconds since boot).
 * {@link CallBudget} reads it when it pings a node and again when the ping is late: a silence
 * while this host's CPUs were contended may be the host's (Redis, or this service, waiting for a
 * CPU), not the store's, so the ping is given longer. A kernel without PSI (or a system that hides
 * it) gives no reading, and a ping is judged on its time alone.
 */
@FunctionalInterface
public interface HostPressure {
    /** Microseconds some task waited for a CPU, cumulative; negative when unknown. */
    long stalledMicros();

    /** No reading: every ping is judged on its time alone. */
    HostPressure NONE = () -> -1;

    /** This host's {@code /proc/pressure/cpu}, or {@link #NONE} where it cannot be read. */
    static HostPressure psi() {
        Path file = Path.of("/proc/pressure/cpu");
        HostPressure psi = () -> read(file);
        return psi.stalledMicros() < 0 ? NONE : psi;
    }

    /** The {@code total=} of the file's first ({@code some}) line; -1 if it cannot be read. */
    private static long read(Path file) {
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return -1;
        }
        int line = text.indexOf('\n');
        int total = text.indexOf("total=");
        if (!text.startsWith("some") || total < 0 || (line >= 0 && total > line)) {
            return -1;
        }
        long micros = 0;
        for (int i = total + "total=".length(); i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                break;
            }
            micros = micros * 10 + (c - '0');
        }
        return micros;
    }
}
