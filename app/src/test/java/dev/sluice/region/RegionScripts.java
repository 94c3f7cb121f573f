package dev.sluice.region;

import dev.sluice.lua.LuaScript;
import dev.sluice.testkit.RedisNode;
import java.util.ArrayList;
import java.util.List;

/**
 * region.lua and a global token bucket check called as RegionSync and RedisScriptStore call them,
 * for the tests that run the scripts on a real Redis.
 */
final class RegionScripts {
    /**
     * region.lua's arguments before the operation's own: the state's key, S (µs), R, f, the state's
     * time to live (ms), the peer expiry (µs), the peer regions and φ.
     */
    record Region(
            String state,
            long syncMicros,
            int regions,
            long floor,
            long ttlMs,
            long expiryMicros,
            List<String> peers,
            long phi) {}

    private RegionScripts() {}

    /** One region.lua operation at {@code now} (µs; -1: the store's clock). */
    @SuppressWarnings("unchecked")
    static List<Long> region(RedisNode redis, Region r, long now, String op, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "EVAL",
                LuaScript.REGION.source(),
                "1",
                r.state(),
                op,
                Long.toString(r.syncMicros()),
                Integer.toString(r.regions()),
                Long.toString(r.floor()),
                Long.toString(r.ttlMs()),
                Long.toString(r.expiryMicros()),
                String.join(",", r.peers()),
                Long.toString(now),
                Long.toString(r.phi())));
        args.addAll(List.of(more));
        return (List<Long>) redis.call(args.toArray(String[]::new));
    }

    /**
     * A global token bucket check (burst = limit = {@code burst} per {@code periodMicros}) asking
     * {@code cost} at {@code now} (µs; -1: the store's clock), on the region state {@code r.state()}
     * with the share {@code initial} while it holds none (prelude.lua's global part).
     */
    @SuppressWarnings("unchecked")
    static List<Long> check(
            RedisNode redis,
            Region r,
            String bucket,
            long burst,
            long periodMicros,
            long cost,
            long now,
            long initial) {
        return (List<Long>) redis.call(
                "EVAL",
                LuaScript.TOKEN_BUCKET.source(),
                "2",
                bucket,
                r.state(),
                Long.toString(burst),
                Long.toString(burst),
                Long.toString(periodMicros),
                Long.toString(cost),
                Long.toString(now),
                "",
                "",
                "g",
                Long.toString(r.syncMicros()),
                Long.toString(initial),
                Long.toString(r.ttlMs()));
    }

    /**
     * A global token bucket's reconciliation charge of {@code units} at {@code now}, as
     * RedisScriptStore.charge sends it: the charge's marker {@code marker} as the second key.
     */
    @SuppressWarnings("unchecked")
    static List<Long> charge(
            RedisNode redis,
            Region r,
            String bucket,
            String marker,
            long burst,
            long periodMicros,
            long units,
            long now,
            long initial) {
        return (List<Long>) redis.call(
                "EVAL",
                LuaScript.TOKEN_BUCKET.source(),
                "3",
                bucket,
                marker,
                r.state(),
                Long.toString(burst),
                Long.toString(burst),
                Long.toString(periodMicros),
                Long.toString(units),
                Long.toString(now),
                "charge",
                "600000",
                "g",
                Long.toString(r.syncMicros()),
                Long.toString(initial),
                Long.toString(r.ttlMs()));
    }
}
