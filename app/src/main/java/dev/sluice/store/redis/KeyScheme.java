package dev.sluice.store.redis;

import dev.sluice.core.Algorithm;
import dev.sluice.store.Subject;

/**
 * How a subject becomes Redis keys: {@code <prefix>{<policy>:<escaped key>}:<suffix>}.
 *
 * <p>Everything between the braces is the hash tag, so every key of one subject lands in one slot
 * (one script touches one shard) while different subjects spread over the cluster. Policy names
 * never contain a colon, a brace or a percent sign; in the user's key those four characters are
 * percent-escaped (percent as %25, colon as %3A, opening brace as %7B, closing brace as %7D). The escape is
 * injective, so two subjects never share a key, and the escaped key holds no brace, so it can
 * neither end the hash tag early nor open another one.
 *
 * <p>Examples with prefix "sl:" are in docs/architecture.md and KeySchemeTest: ("api", "alice")
 * is "sl:{api:alice}:tb" and ("api", "a:b") is "sl:{api:a%3Ab}:tb".
 */
public final class KeyScheme {
    /** The suffix of token bucket (and gcra) state. */
    public static final String TOKEN_BUCKET = Algorithm.TOKEN_BUCKET.suffix();

    /** The suffix of {@code algorithm}'s state ({@link Algorithm#suffix()}). */
    public static String suffix(Algorithm algorithm) {
        return algorithm.suffix();
    }

    /** Every key {@code subject} can have, one per kind of state, all in one slot. */
    public String[] allKeys(Subject subject) {
        return java.util.Arrays.stream(Algorithm.values())
                .map(Algorithm::suffix)
                .distinct()
                .map(suffix -> key(subject, suffix))
                .toArray(String[]::new);
    }

    private final String prefix;

    public KeyScheme(String prefix) {
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException("the key prefix must not contain braces: " + prefix);
        }
        this.prefix = prefix;
    }

    /** The key of {@code subject}'s state of the given kind ({@link #TOKEN_BUCKET}, ...). */
    public String key(Subject subject, String suffix) {
        return base(subject) + suffix;
    }

    /** The keys of {@code subject}'s states of the given kinds, its key escaped once for all. */
    public String[] keys(Subject subject, String... suffixes) {
        String base = base(subject);
        String[] keys = new String[suffixes.length];
        for (int i = 0; i < suffixes.length; i++) {
            keys[i] = base + suffixes[i];
        }
        return keys;
    }

    /** {@code <prefix>{<policy>:<escaped key>}:}, what every key of the subject starts with. */
    private String base(Subject subject) {
        String key = subject.key();
        StringBuilder sb = new StringBuilder(prefix.length() + subject.policy().length() + key.length() + 12)
                .append(prefix)
                .append('{')
                .append(subject.policy())
                .append(':');
        escape(key, sb);
        return sb.append("}:").toString();
    }

    /**
     * The sorted set of live service nodes ({@code <prefix>{nodes}}); no subject's key can be it,
     * since a subject's hash tag always holds a colon.
     */
    public String members() {
        return prefix + "{nodes}";
    }

    /** The pub/sub channel on which resets are told to every node ({@link RedisResetBroadcast}). */
    public String resetsChannel() {
        return prefix + "resets";
    }

    /** The hash tag of {@code subject}: the part of its keys that decides the slot. */
    public String hashTag(Subject subject) {
        StringBuilder sb = new StringBuilder().append(subject.policy()).append(':');
        escape(subject.key(), sb);
        return sb.toString();
    }

    static void escape(String key, StringBuilder out) {
        if (!needsEscape(key)) {
            out.append(key); // the usual key: copied whole, not a character at a time
            return;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            switch (c) {
                case '%' -> out.append("%25");
                case ':' -> out.append("%3A");
                case '{' -> out.append("%7B");
                case '}' -> out.append("%7D");
                default -> out.append(c);
            }
        }
    }

    private static boolean needsEscape(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '%' || c == ':' || c == '{' || c == '}') {
                return true;
            }
        }
        return false;
    }
}
