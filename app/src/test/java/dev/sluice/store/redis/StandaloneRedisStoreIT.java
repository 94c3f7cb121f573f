package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.lua.LuaScript;
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
class StandaloneRedisStoreIT extends StoreContract<RedisScriptStore> {
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
    protected RedisScriptStore store() {
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
    void anAccountsPlanStateIsOneHashPerMonthThatExpiresWithTheMonth() {
        Subject s = new Subject("rate", "acct-layout");
        plan(s, 2, "2026-11-22");
        plan(s, 3, "2026-11-23");
        var redis = connection.sync();
        java.util.Map<String, String> hash = redis.hgetall("sl:{rate:acct-layout}:q:2026-11");
        assertThat(hash).containsAllEntriesOf(java.util.Map.of("2026-11-22", "2", "2026-11-23", "3", "m", "5"));
        assertThat(hash.keySet()).containsExactlyInAnyOrder("2026-11-22", "2026-11-23", "m", "tb");
        // the bucket's state: when it is full again, 5 units (3 s at 100/min) after the last check
        long fullAt = Long.parseLong(hash.get("tb"));
        long nowMicros = Long.parseLong(redis.time().get(0)) * 1_000_000;
        assertThat(fullAt - nowMicros).isBetween(0L, 3_000_000L + 1_000_000L);
        assertThat(redis.exists("sl:{rate:acct-layout}:tb"))
                .as("no key besides the hash")
                .isZero();
        assertThat(redis.pttl("sl:{rate:acct-layout}:q:2026-11"))
                .as("the hash expires when its month ends")
                .isBetween(7_100_000L, 7_200_000L);
        // a reset sets the counters to 0, empties the bucket and keeps the month's expiry
        store.resetPlan(s, "2026-11-23", "2026-11", true, true, true)
                .toCompletableFuture()
                .join();
        assertThat(redis.hget("sl:{rate:acct-layout}:q:2026-11", "2026-11-23")).isEqualTo("0");
        assertThat(redis.hget("sl:{rate:acct-layout}:q:2026-11", "m")).isEqualTo("0");
        assertThat(redis.hexists("sl:{rate:acct-layout}:q:2026-11", "tb")).isFalse();
        assertThat(redis.pttl("sl:{rate:acct-layout}:q:2026-11")).isBetween(7_100_000L, 7_200_000L);
    }

    @Test
    void aBucketAloneMakesAHashThatExpires() {
        Subject s = new Subject("rate", "acct-bucket-only");
        Limit limit = new Limit(3, 3, 60_000);
        dev.sluice.core.PlanQuota.Quotas none = new dev.sluice.core.PlanQuota.Quotas(0, 3_600_000, 0, 7_200_000);
        assertThat(planCheck(s, limit, "2026-12-01", "2026-12", none).bucket().allowed())
                .isTrue();
        var redis = connection.sync();
        assertThat(redis.hgetall("sl:{rate:acct-bucket-only}:q:2026-12")).containsOnlyKeys("tb");
        assertThat(redis.pttl("sl:{rate:acct-bucket-only}:q:2026-12"))
                .as("a plan without quotas: the hash still expires with its month")
                .isBetween(7_100_000L, 7_200_000L);
    }

    @Test
    void aBucketThatOutlivesTheMonthKeepsItsHash() {
        Subject s = new Subject("rate", "acct-long");
        // 1 per hour, the month ending in 10 minutes: the bucket is full again only after it
        Limit limit = new Limit(1, 1, 3_600_000);
        dev.sluice.core.PlanQuota.Quotas quotas = new dev.sluice.core.PlanQuota.Quotas(0, 600_000, 0, 600_000);
        assertThat(planCheck(s, limit, "2026-11-30", "2026-11", quotas).bucket().allowed())
                .isTrue();
        assertThat(connection.sync().pttl("sl:{rate:acct-long}:q:2026-11")).isBetween(3_590_000L, 3_600_000L);
    }

    @Test
    void anAdmittedPlanCheckReadsAndWritesTheQuotasOnceEach() {
        Subject s = new Subject("rate", "acct-calls");
        plan(s, 1, "2026-11-23");
        var redis = connection.sync();
        redis.configResetstat();
        plan(s, 1, "2026-11-23");
        String stats = redis.info("commandstats");
        // the hash's HMGET (bucket and both counters) and one HSET of all three; the hash has its
        // expiry already, and the bucket is in this month's hash (no look at the month before)
        assertThat(calls(stats, "hmget")).isEqualTo(1);
        assertThat(calls(stats, "hset")).isEqualTo(1);
        assertThat(calls(stats, "hget")).isZero();
        assertThat(calls(stats, "get")).isZero();
        assertThat(calls(stats, "set")).isZero();
        assertThat(calls(stats, "pexpire")).isZero();
        assertThat(calls(stats, "incrby")).isZero();
    }

    private static dev.sluice.core.PlanQuota.Result planCheck(
            Subject s, Limit limit, String day, String month, dev.sluice.core.PlanQuota.Quotas quotas) {
        return store.acquirePlan(s, limit, 1, day, month, quotas)
                .toCompletableFuture()
                .join();
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
