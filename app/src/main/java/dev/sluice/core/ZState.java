package dev.sluice.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A Redis sorted set as the twins hold it: entries in the set's own order (score, then member
 * bytes), written {@code "member=score,member=score"}. Members never hold {@code ,} or {@code =}.
 */
public final class ZState {
    private ZState() {}

    /** One member and its integer score. */
    public record Entry(String member, long score) {}

    /** Redis's order: by score, then by member (ASCII members: byte order is {@code String} order). */
    public static final Comparator<Entry> ORDER =
            Comparator.comparingLong(Entry::score).thenComparing(Entry::member);

    /** The entries of {@code stored}; empty for {@code null}, {@code ""} or an unreadable state. */
    public static List<Entry> parse(String stored) {
        List<Entry> entries = new ArrayList<>();
        if (stored == null || stored.isEmpty()) {
            return entries;
        }
        try {
            for (String item : stored.split(",", -1)) {
                int eq = item.lastIndexOf('=');
                entries.add(new Entry(item.substring(0, eq), Long.parseLong(item.substring(eq + 1))));
            }
        } catch (RuntimeException e) {
            return new ArrayList<>();
        }
        entries.sort(ORDER);
        return entries;
    }

    /** The state string of {@code entries} (sorted here); {@code ""} when empty. */
    public static String format(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(ORDER);
        StringBuilder sb = new StringBuilder(sorted.size() * 24);
        for (Entry e : sorted) {
            sb.append(sb.isEmpty() ? "" : ",").append(e.member()).append('=').append(e.score());
        }
        return sb.toString();
    }

    /** The index of the first entry whose score is above {@code score} ({@code entries} sorted). */
    static int firstAbove(List<Entry> entries, long score) {
        int i = 0;
        while (i < entries.size() && entries.get(i).score() <= score) {
            i++;
        }
        return i;
    }
}
