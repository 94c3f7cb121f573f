package dev.sluice.lua;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A Lua script shipped as a resource of this module, with the SHA-1 digest that EVALSHA names it by.
 *
 * @param name the file name, e.g. {@code token_bucket.lua}
 * @param source the script text
 * @param sha1 lower-case hex SHA-1 of the UTF-8 source, as Redis computes it
 */
public record LuaScript(String name, String source, String sha1) {

    /** The token bucket script. */
    public static final LuaScript TOKEN_BUCKET = load("token_bucket.lua");

    /** The fixed window script. */
    public static final LuaScript FIXED_WINDOW = load("fixed_window.lua");

    /** The sliding window counter script. */
    public static final LuaScript SLIDING_WINDOW_COUNTER = load("sliding_window_counter.lua");

    /** The sliding window log script. */
    public static final LuaScript SLIDING_WINDOW_LOG = load("sliding_window_log.lua");

    /** The concurrency (lease) script. */
    public static final LuaScript CONCURRENCY = load("concurrency.lua");

    /** A plan check: token bucket plus daily and monthly quotas, one atomic step. */
    public static final LuaScript PLAN = load("plan.lua");

    /** Resets an account's plan bucket and quota counters (stands alone: no prelude). */
    public static final LuaScript PLAN_RESET = loadAlone("plan_reset.lua");

    /** A global policy's region state: shipping, acknowledging and applying demand (arith.lua, no prelude). */
    public static final LuaScript REGION = loadAfter("arith.lua", "region.lua");

    /** The membership script of the {@code local} failure mode (stands alone: no prelude). */
    public static final LuaScript MEMBERS = loadAlone("members.lua");

    /** Reads {@code dev/sluice/lua/<name>} as it is, for a script that does not take the decision arguments. */
    public static LuaScript loadAlone(String name) {
        String source = read(name);
        return new LuaScript(name, source, sha1(source));
    }

    /** Reads {@code dev/sluice/lua/<name>} with the shared text {@code <first>} in front of it. */
    static LuaScript loadAfter(String first, String name) {
        String source = read(first) + "\n" + read(name);
        return new LuaScript(name, source, sha1(source));
    }

    /**
     * Reads {@code dev/sluice/lua/<name>} from the class path and puts {@code arith.lua} and {@code
     * prelude.lua} (the helpers and arguments every decision script shares) in front of it: the
     * result is one self-contained script, and its digest is the one EVALSHA uses.
     */
    public static LuaScript load(String name) {
        String source = read("arith.lua") + "\n" + read("prelude.lua") + "\n" + read(name);
        return new LuaScript(name, source, sha1(source));
    }

    private static String read(String name) {
        String path = "/dev/sluice/lua/" + name;
        try (InputStream in = LuaScript.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("script not on the class path: " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String source) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            return HexFormat.of().formatHex(digest.digest(source.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
