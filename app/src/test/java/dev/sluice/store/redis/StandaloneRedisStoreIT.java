package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.lua.LuaScript;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.StoreContract;
import dev.sluice.store.Subject;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RedisServersExtension.class)
class StandaloneRedisStoreIT extends StoreContract {
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;
    private static RedisScriptStore store;

    @BeforeAll
    static void connect() {
        client = RedisClient.create(RedisServers.standalone().uri());
        connection = client.connect();
        store = new RedisScriptStore(connection.async(), new KeyScheme("sl:"), "redis");
    }

    @AfterAll
    static void disconnect() {
        connection.close();
        client.shutdown();
    }

    @Override
    protected RateLimitStore store() {
        return store;
    }

    @Test
    void anEmptyScriptCacheIsRefilledByEvalOnNoScript() {
        connection.sync().scriptFlush();
        assertThat(connection.sync().scriptExists(LuaScript.TOKEN_BUCKET.sha1()))
                .containsExactly(false);
        Decision d = store.acquire(new Subject("noscript", "k"), new Limit(5, 5, 1_000), 1)
                .toCompletableFuture()
                .join();
        assertThat(d.allowed()).isTrue();
        assertThat(connection.sync().scriptExists(LuaScript.TOKEN_BUCKET.sha1()))
                .containsExactly(true);
    }

    @Test
    void everyWriteHasATtlUntilTheBucketIsFull() {
        Subject s = new Subject("ttl", "k");
        store.acquire(s, new Limit(10, 10, 60_000), 3).toCompletableFuture().join();
        long pttl = connection.sync().pttl("sl:{ttl:k}:tb");
        assertThat(pttl).isBetween(17_000L, 18_000L);
    }

    @Test
    void anAccountsQuotasAreOneHashPerMonthThatExpiresWithTheMonth() {
        Subject s = new Subject("rate", "acct-layout");
        plan(s, 2, "2026-11-22");
        plan(s, 3, "2026-11-23");
        var redis = connection.sync();
        assertThat(redis.hgetall("sl:{rate:acct-layout}:q:2026-11"))
                .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("2026-11-22", "2", "2026-11-23", "3", "m", "5"));
        assertThat(redis.pttl("sl:{rate:acct-layout}:q:2026-11"))
                .as("the hash expires when its month ends")
                .isBetween(7_100_000L, 7_200_000L);
        // a reset sets the counters to 0 and keeps the month's expiry
        store.resetPlan(s, "2026-11-23", "2026-11", true, true, true)
                .toCompletableFuture()
                .join();
        assertThat(redis.hget("sl:{rate:acct-layout}:q:2026-11", "2026-11-23")).isEqualTo("0");
        assertThat(redis.hget("sl:{rate:acct-layout}:q:2026-11", "m")).isEqualTo("0");
        assertThat(redis.pttl("sl:{rate:acct-layout}:q:2026-11")).isBetween(7_100_000L, 7_200_000L);
    }

    @Test
    void anAdmittedPlanCheckReadsAndWritesTheQuotasOnceEach() {
        Subject s = new Subject("rate", "acct-calls");
        plan(s, 1, "2026-11-23");
        var redis = connection.sync();
        redis.configResetstat();
        plan(s, 1, "2026-11-23");
        String stats = redis.info("commandstats");
        // (besides the bucket's GET and SET) the hash's HMGET and one HSET of both counters; the
        // hash has its expiry already
        assertThat(calls(stats, "hmget")).isEqualTo(1);
        assertThat(calls(stats, "hset")).isEqualTo(1);
        assertThat(calls(stats, "pexpire")).isZero();
        assertThat(calls(stats, "incrby")).isZero();
    }

    /** A plan check in November 2026: rate 100/min, daily 10 (day ending in 1 h), monthly 100 (in 2 h). */
    private static void plan(Subject s, long cost, String day) {
        store.acquirePlan(
                        s,
                        new Limit(100, 100, 60_000),
                        cost,
                        day,
                        "2026-11",
                        new dev.sluice.core.PlanQuota.Quotas(10, 3_600_000, 100, 7_200_000))
                .toCompletableFuture()
                .join();
    }

    private static long calls(String commandStats, String command) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("cmdstat_" + command + ":calls=(\\d+)")
                .matcher(commandStats);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
