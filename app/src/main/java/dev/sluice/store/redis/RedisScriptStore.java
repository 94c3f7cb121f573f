package dev.sluice.store.redis;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.lua.LuaScript;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.Subject;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Limits in Redis, standalone or Cluster: each check is one EVALSHA of the policy's algorithm's
 * script ({@code token_bucket.lua}, {@code fixed_window.lua}) on the shard that owns the subject's
 * hash tag. Every script takes the same ARGV (burst, limit, period in µs, cost, now) and returns
 * the same shape. Scripts are addressed by digest; the source is
 * sent (EVAL, which also caches it) only when the server answers NOSCRIPT, as a freshly started
 * or promoted node does. Everything is asynchronous: no call blocks the caller's thread.
 */
public final class RedisScriptStore implements RateLimitStore {
    private static final String STORE_CLOCK = "-1";

    private final RedisClusterAsyncCommands<String, String> commands;
    private final KeyScheme keys;
    private final String kind;

    /**
     * @param commands the asynchronous commands of a standalone ({@code RedisAsyncCommands}) or
     *     cluster ({@code RedisAdvancedClusterAsyncCommands}) connection
     */
    public RedisScriptStore(RedisClusterAsyncCommands<String, String> commands, KeyScheme keys, String kind) {
        this.commands = commands;
        this.keys = keys;
        this.kind = kind;
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return run(subject, limit, cost, STORE_CLOCK);
    }

    @Override
    public CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros) {
        return run(subject, limit, cost, Long.toString(nowMicros));
    }

    private CompletionStage<Decision> run(Subject subject, Limit limit, long cost, String now) {
        LuaScript script = script(limit.algorithm());
        String[] keyArray = {keys.key(subject, KeyScheme.suffix(limit.algorithm()))};
        String[] args = {
            Long.toString(limit.burst()), Long.toString(limit.limit()), periodArg(limit), costArg(cost), now
        };
        CompletionStage<List<Long>> reply = commands.<List<Long>>evalsha(
                        script.sha1(), ScriptOutputType.MULTI, keyArray, args)
                .exceptionallyCompose(error -> isNoScript(error)
                        ? commands.<List<Long>>eval(script.source(), ScriptOutputType.MULTI, keyArray, args)
                        : CompletableFuture.failedFuture(error));
        return reply.thenApply(
                r -> new Decision(r.get(0) == 1L, limit.burst(), r.get(1), r.get(2), r.get(3), r.get(4)));
    }

    private static LuaScript script(Algorithm algorithm) {
        return switch (algorithm) {
            case TOKEN_BUCKET -> LuaScript.TOKEN_BUCKET;
            case FIXED_WINDOW -> LuaScript.FIXED_WINDOW;
            case SLIDING_WINDOW_COUNTER -> LuaScript.SLIDING_WINDOW_COUNTER;
        };
    }

    private static final String[] SMALL = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};

    private static String costArg(long cost) {
        return cost <= 10 ? SMALL[(int) cost] : Long.toString(cost);
    }

    private static String periodArg(Limit limit) {
        return Long.toString(limit.periodMicros());
    }

    private static boolean isNoScript(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return cause instanceof RedisNoScriptException
                || (cause.getMessage() != null && cause.getMessage().startsWith("NOSCRIPT"));
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        // every kind of state the subject may have (its policy's algorithm may have changed); one slot
        return commands.del(keys.allKeys(subject)).thenApply(deleted -> null);
    }

    @Override
    public String kind() {
        return kind;
    }
}
