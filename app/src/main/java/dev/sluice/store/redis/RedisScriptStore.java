package dev.sluice.store.redis;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.PlanQuota;
import dev.sluice.lua.LuaScript;
import dev.sluice.region.RegionMode;
import dev.sluice.store.ClockedStore;
import dev.sluice.store.LeaseTokens;
import dev.sluice.store.PlanStore;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.StoreUpkeep;
import dev.sluice.store.Subject;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.protocol.CommandType;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Limits in Redis, standalone or Cluster: each check is one EVALSHA of the policy's algorithm's
 * script ({@link #script}) on the shard that owns the subject's
 * hash tag. Every script takes the same ARGV (burst, limit, period in µs, cost, now) and returns
 * the same shape. Scripts are addressed by digest; the source is
 * sent (EVAL, which also caches it) only when the server answers NOSCRIPT, as a freshly started
 * or promoted node does. Everything is asynchronous: no call blocks the caller's thread.
 */
public final class RedisScriptStore implements RateLimitStore, PlanStore, StoreUpkeep, ClockedStore {
    private static final String STORE_CLOCK = "-1";

    private final RedisClusterAsyncCommands<String, String> commands;
    private final KeyScheme keys;
    private final String kind;
    private final CallBudget budget;
    private final RegionMode regions;

    /**
     * @param commands the asynchronous commands of a standalone ({@code RedisAsyncCommands}) or
     *     cluster ({@code RedisAdvancedClusterAsyncCommands}) connection
     */
    public RedisScriptStore(RedisClusterAsyncCommands<String, String> commands, KeyScheme keys, String kind) {
        this(commands, keys, kind, CallBudget.NONE);
    }

    /**
     * @param budget how long a call may take before its caller stops waiting ({@link CallBudget})
     */
    public RedisScriptStore(
            RedisClusterAsyncCommands<String, String> commands, KeyScheme keys, String kind, CallBudget budget) {
        this(commands, keys, kind, budget, RegionMode.OFF);
    }

    /**
     * @param regions which checks are of a global policy (multi-region mode): those decide on the
     *     region's share of the limit (prelude.lua) and count the region's demand
     */
    public RedisScriptStore(
            RedisClusterAsyncCommands<String, String> commands,
            KeyScheme keys,
            String kind,
            CallBudget budget,
            RegionMode regions) {
        this.commands = commands;
        this.keys = keys;
        this.kind = kind;
        this.budget = budget;
        this.regions = regions;
    }

    /**
     * A global policy's check (multi-region mode, prelude.lua): the subject's region state as the
     * last key, ARGV[6] and [7] filled in when absent, then the region's arguments.
     */
    private String[][] global(Subject subject, Limit limit, long cost, String[] keyArray, String[] args) {
        if (!regions.global(subject) || !limit.algorithm().hasBurst()) {
            return null;
        }
        if (cost > 0) {
            regions.seen(subject, cost);
        }
        String[] k = java.util.Arrays.copyOf(keyArray, keyArray.length + 1);
        k[keyArray.length] = keys.key(subject, RegionMode.SUFFIX);
        String[] region = regions.scriptArgs();
        String[] a = java.util.Arrays.copyOf(args, 7 + region.length);
        for (int i = args.length; i < 7; i++) {
            a[i] = "";
        }
        System.arraycopy(region, 0, a, 7, region.length);
        return new String[][] {k, a};
    }

    /** The call bounded by the budget; {@code key} tells which node serves it ({@link CallBudget}). */
    private <T> CompletionStage<T> withinBudget(CompletionStage<T> call, String key) {
        return budget.bound(call, key);
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return run(subject, limit, cost, STORE_CLOCK);
    }

    @Override
    public CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros) {
        return run(subject, limit, cost, Long.toString(nowMicros));
    }

    /** The script with a second key, the charge's marker: see prelude.lua. */
    @Override
    public CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId) {
        String[] keyArray = keys.keys(subject, limit.algorithm().suffix(), "once:" + chargeId);
        String[] args = decisionArgs(limit, costArg(units), STORE_CLOCK, "charge", Long.toString(CHARGE_MARKER_TTL_MS));
        String[][] g = global(subject, limit, units, keyArray, args);
        if (g != null) {
            keyArray = g[0];
            args = g[1];
        }
        return withinBudget(
                evalScript(script(limit.algorithm()), keyArray, args)
                        .thenApply(r ->
                                new Decision(r.get(0) == 1L, limit.burst(), r.get(1), r.get(2), r.get(3), r.get(4))),
                keyArray[0]);
    }

    private CompletionStage<Decision> run(Subject subject, Limit limit, long cost, String now) {
        String token = limit.algorithm() == Algorithm.CONCURRENCY && cost > 0 ? LeaseTokens.next() : null;
        String[] args = token == null
                ? decisionArgs(limit, costArg(cost), now)
                : decisionArgs(limit, costArg(cost), now, token);
        String key = keys.key(subject, limit.algorithm().suffix());
        String[] keyArray = {key};
        String[][] g = global(subject, limit, cost, keyArray, args);
        if (g != null) {
            keyArray = g[0];
            args = g[1];
        }
        return withinBudget(
                evalScript(script(limit.algorithm()), keyArray, args)
                        .thenApply(r -> new Decision(
                                r.get(0) == 1L,
                                limit.burst(),
                                r.get(1),
                                r.get(2),
                                r.get(3),
                                r.get(4),
                                r.get(0) == 1L ? token : null)),
                key);
    }

    /**
     * The arguments every decision script takes (prelude.lua): burst, limit, period, cost, now, then
     * the script's own ({@code extra}: a refund's consumption time, a lease token, a charge's
     * marker time to live).
     */
    private static String[] decisionArgs(Limit limit, String cost, String now, String... extra) {
        String[] args = new String[5 + extra.length];
        args[0] = Long.toString(limit.burst());
        args[1] = Long.toString(limit.limit());
        args[2] = periodArg(limit);
        args[3] = cost;
        args[4] = now;
        System.arraycopy(extra, 0, args, 5, extra.length);
        return args;
    }

    private CompletionStage<List<Long>> evalUnbudgeted(Subject subject, Algorithm algorithm, String[] args) {
        return evalScript(script(algorithm), new String[] {keys.key(subject, algorithm.suffix())}, args);
    }

    /** EVALSHA, and EVAL when the store does not have the script (NOSCRIPT: restarted, or a new master). */
    private CompletionStage<List<Long>> evalScript(LuaScript script, String[] keyArray, String[] args) {
        ScriptArgs.Tail tail = new ScriptArgs.Tail(keyArray.length);
        for (String k : keyArray) {
            tail.key(k);
        }
        for (String a : args) {
            tail.arg(a);
        }
        return evalScript(script, tail);
    }

    private CompletionStage<List<Long>> evalScript(LuaScript script, ScriptArgs.Tail tail) {
        return dispatch(CommandType.EVALSHA, ScriptArgs.evalsha(script.sha1(), tail))
                .exceptionallyCompose(error -> isNoScript(error)
                        ? dispatch(CommandType.EVAL, ScriptArgs.eval(script.source(), tail))
                        : CompletableFuture.failedFuture(error));
    }

    /**
     * One EVALSHA or EVAL with its keys and arguments already encoded ({@link ScriptArgs}). Keys
     * stay keys, so the cluster client routes the command by the first key's slot as before. The
     * scripts answer integers only, which need no codec.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private CompletionStage<List<Long>> dispatch(CommandType type, ScriptArgs args) {
        RedisClusterAsyncCommands raw = commands;
        return raw.dispatch(type, new NestedMultiOutput<>(ByteArrayCodec.INSTANCE), args);
    }

    /**
     * The suffix of an account's plan hash, followed by its month ({@code "q:2026-11"}): the month's
     * counter in field {@code m}, each day's in a field named for the day, the bucket in {@code tb}
     * (plan.lua).
     */
    static final String QUOTAS = "q:";

    /** The last month asked for and the month before it ({@link #planKeys}). */
    private volatile String[] lastMonth = {"", ""};

    /** plan.lua's keys: the account's hash of {@code monthId} ("yyyy-mm") and of the month before. */
    private String[] planKeys(Subject subject, String monthId) {
        String[] last = lastMonth;
        if (!last[0].equals(monthId)) {
            last = new String[] {
                monthId, YearMonth.parse(monthId).minusMonths(1).toString()
            };
            lastMonth = last;
        }
        return keys.keys(subject, QUOTAS + monthId, QUOTAS + last[1]);
    }

    @Override
    public CompletionStage<PlanQuota.Result> acquirePlan(
            Subject subject, Limit limit, long cost, String dayId, String monthId, PlanQuota.Quotas quotas) {
        String[] keyArray = planKeys(subject, monthId);
        ScriptArgs.Tail args = new ScriptArgs.Tail(2)
                .key(keyArray[0])
                .key(keyArray[1])
                .arg(limit.burst())
                .arg(limit.limit())
                .arg(limit.periodMicros())
                .arg(cost)
                .arg(STORE_CLOCK)
                .arg("")
                .arg(quotas.daily())
                .arg(Math.max(1, quotas.dayTtlMs()))
                .arg(quotas.monthly())
                .arg(Math.max(1, quotas.monthTtlMs()))
                .arg(quotas.daySeed())
                .arg(quotas.monthSeed())
                .arg(dayId);
        return withinBudget(
                evalScript(LuaScript.PLAN, args)
                        .thenApply(r -> new PlanQuota.Result(
                                new Decision(r.get(0) == 1L, limit.burst(), r.get(1), r.get(2), r.get(3), r.get(4)),
                                r.get(5),
                                r.get(6),
                                PlanQuota.Violation.of(r.get(7)),
                                null,
                                -1,
                                r.get(0) == 1L && cost > 0,
                                false,
                                false)),
                keyArray[0]);
    }

    @Override
    public CompletionStage<Void> refund(Subject subject, Limit limit, long units, Decision consumed) {
        String extra =
                limit.algorithm() == Algorithm.CONCURRENCY ? consumed.lease() : Long.toString(consumed.nowMicros());
        if (extra == null) {
            return CompletableFuture.completedFuture(null);
        }
        String key = keys.key(subject, limit.algorithm().suffix());
        String[] keyArray = {key};
        String[] args = decisionArgs(limit, Long.toString(-units), STORE_CLOCK, extra);
        String[][] g = global(subject, limit, -units, keyArray, args);
        if (g != null) {
            keyArray = g[0];
            args = g[1];
        }
        return withinBudget(
                evalScript(script(limit.algorithm()), keyArray, args).thenApply(r -> (Void) null), key);
    }

    @Override
    public CompletionStage<Boolean> release(Subject subject, String token) {
        String key = keys.key(subject, Algorithm.CONCURRENCY.suffix());
        return withinBudget(commands.zrem(key, token).thenApply(removed -> removed != null && removed > 0), key);
    }

    /** The script of {@code algorithm} ({@code gcra} runs the token bucket's). */
    public static LuaScript script(Algorithm algorithm) {
        return switch (algorithm) {
            case TOKEN_BUCKET, GCRA -> LuaScript.TOKEN_BUCKET;
            case FIXED_WINDOW -> LuaScript.FIXED_WINDOW;
            case SLIDING_WINDOW_COUNTER -> LuaScript.SLIDING_WINDOW_COUNTER;
            case SLIDING_WINDOW_LOG -> LuaScript.SLIDING_WINDOW_LOG;
            case CONCURRENCY -> LuaScript.CONCURRENCY;
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
    public CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        String[] keyArray = planKeys(subject, monthId);
        String[] args = {rate ? "1" : "0", day ? "1" : "0", month ? "1" : "0", dayId};
        return withinBudget(
                evalScript(LuaScript.PLAN_RESET, keyArray, args).thenApply(r -> new long[] {r.get(0), r.get(1)}),
                keyArray[0]);
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        // every kind of state the subject may have (its policy's algorithm may have changed); one slot
        String[] all = keys.allKeys(subject);
        return withinBudget(commands.del(all).thenApply(deleted -> (Void) null), all[0]);
    }

    /**
     * Looks (cost 0, writes nothing) with every script, ten rounds of 32 subjects each, outside the
     * time budget: 320 hash slots, so that a cluster client has connected to every master (a
     * connection is opened on first use) and every script is cached on the nodes it reached.
     */
    @Override
    public CompletionStage<Void> warmUp() {
        CompletableFuture<Void> probes = budget.warmUp().toCompletableFuture();
        return warmUpRound(0).thenCombine(probes, (a, b) -> null);
    }

    /**
     * One round of 32 looks on subjects spread over the hash slots. A look that fails (a command
     * timed out while the cluster client was still connecting to its master) does not end the
     * warm-up: rounds go on until ten have run and the last had no failure, at most 40.
     */
    private CompletableFuture<Void> warmUpRound(int round) {
        Algorithm[] algorithms = Algorithm.values();
        List<CompletableFuture<Boolean>> looks = new ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> lastError =
                new java.util.concurrent.atomic.AtomicReference<>();
        for (int i = 0; i < 32; i++) {
            int n = (round % 10) * 32 + i;
            Subject subject = new Subject("sluice-warm-up", kind + "-" + n);
            CompletionStage<List<Long>> look;
            if (n % (algorithms.length + 1) == algorithms.length) {
                // plan.lua too (a look without quotas writes nothing): else the first check by API
                // key on each master pays NOSCRIPT + EVAL, past the budget on a cold node
                String[] keyArray = keys.keys(subject, QUOTAS + "warm-up", QUOTAS + "warm-up-before");
                String[] args = {"1", "1", "1000", "0", STORE_CLOCK, "", "0", "1", "0", "1", "0", "0", "warm-up"};
                look = evalScript(LuaScript.PLAN, keyArray, args);
            } else {
                Algorithm algorithm = algorithms[n % algorithms.length];
                Limit limit = new Limit(algorithm, 1, 1, 1000);
                look = evalUnbudgeted(subject, algorithm, new String[] {"1", "1", periodArg(limit), "0", STORE_CLOCK});
            }
            looks.add(look.toCompletableFuture().handle((r, e) -> {
                if (e != null) {
                    lastError.set(e);
                }
                return e == null;
            }));
        }
        return CompletableFuture.allOf(looks.toArray(CompletableFuture[]::new)).thenCompose(x -> {
            int failures = (int) looks.stream().filter(f -> !f.join()).count();
            if (round >= 9 && failures == 0) {
                return CompletableFuture.completedFuture(null);
            }
            if (round >= 39) {
                return CompletableFuture.failedFuture(lastError.get());
            }
            return warmUpRound(round + 1);
        });
    }

    @Override
    public CompletionStage<Long> heartbeat(String node, long ttlMs, boolean leaving) {
        LuaScript script = LuaScript.MEMBERS;
        String[] keyArray = {keys.members()};
        String[] args = {node, Long.toString(ttlMs), leaving ? "1" : "0"};
        return commands.<Long>evalsha(script.sha1(), ScriptOutputType.INTEGER, keyArray, args)
                .exceptionallyCompose(error -> isNoScript(error)
                        ? commands.<Long>eval(script.source(), ScriptOutputType.INTEGER, keyArray, args)
                        : CompletableFuture.failedFuture(error));
    }

    @Override
    public String kind() {
        return kind;
    }
}
