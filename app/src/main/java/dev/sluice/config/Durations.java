package dev.sluice.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as configuration writes them: {@code 500ms}, {@code 1s}, {@code 1m}, {@code 1h}, {@code 1d}, or ISO-8601. */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private Durations() {}

    /**
     * The duration in {@code text}, or {@code null} when it is not one — or is too long to count in
     * milliseconds (a long), which no limit or timeout can use.
     */
    public static Duration parse(String text) {
        Duration d;
        try {
            d = parseUnchecked(text);
        } catch (ArithmeticException e) {
            return null; // "999999999999d": past what a Duration holds
        }
        if (d != null && (d.compareTo(LONGEST) > 0 || d.compareTo(LONGEST.negated()) < 0)) {
            return null; // past what a long counts in milliseconds
        }
        return d;
    }

    private static final Duration LONGEST = Duration.ofMillis(Long.MAX_VALUE);

    private static Duration parseUnchecked(String text) {
        if (text == null) {
            return null;
        }
        String t = text.trim();
        Matcher m = SHORT.matcher(t);
        if (m.matches()) {
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                return null;
            }
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(t);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
