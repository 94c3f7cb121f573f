package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.store.Subject;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import dev.sluice.testkit.Resp;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rows of docs/algorithms.md, measured on the Redis Cluster: the boundary attack (a full limit
 * just before a window boundary and again just after it: how much is admitted within one period)
 * and bytes per subject ({@code MEMORY USAGE} over 1,000 subjects).
 */
@ExtendWith(RedisServersExtension.class)
class AlgorithmsIT {
    private static final long LIMIT = 100;
    private static final long PERIOD_MS = 60_000;
    private static RedisCluster cluster;
    private static ClusterConnection connection;
    private static RedisScriptStore store;
    private static final KeyScheme KEYS = new KeyScheme("sl:");

    @BeforeAll
    static void connect() {
        cluster = RedisServers.cluster();
        connection = new ClusterConnection(cluster, KEYS);
        store = connection.store;
    }

    @AfterAll
    static void disconnect() {
        connection.close();
    }

    private static Limit limit(Algorithm algorithm) {
        return new Limit(algorithm, LIMIT, LIMIT, PERIOD_MS);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void boundaryAttack(Algorithm algorithm) {
        Limit limit = limit(algorithm);
        Subject attacker = new Subject("boundary", algorithm.value() + "-" + System.nanoTime());
        long boundary = (1_800_000_000_000_000L / limit.periodMicros() + 1) * limit.periodMicros();
        int admitted = 0;
        for (long at : new long[] {boundary - 1_000, boundary + 1_000}) {
            for (int i = 0; i < LIMIT; i++) {
                if (store.acquireAt(attacker, limit, 1, at)
                        .toCompletableFuture()
                        .join()
                        .allowed()) {
                    admitted++;
                }
            }
        }
        System.out.printf(
                "AlgorithmsIT boundary attack %s: limit %d per %d s, %d sent 1 ms before and %d 1 ms after a"
                        + " boundary, admitted %d within 2 ms (%.2fx the limit)%n",
                algorithm.value(), LIMIT, PERIOD_MS / 1000, LIMIT, LIMIT, admitted, admitted / (double) LIMIT);
        switch (algorithm) {
            case FIXED_WINDOW -> assertThat(admitted).isEqualTo(2 * LIMIT);
            // burst + limit * 2 ms / 60 s: the refill over 2 ms is less than one unit
            case TOKEN_BUCKET -> assertThat(admitted).isEqualTo(LIMIT);
            // the previous window still weighs (60 s - 1 ms) / 60 s: nothing more fits
            case SLIDING_WINDOW_COUNTER -> assertThat(admitted).isEqualTo(LIMIT);
            // the same function as the token bucket
            case GCRA -> assertThat(admitted).isEqualTo(LIMIT);
            // exact: the units of 1 ms before the boundary are in every window that holds the later ones
            case SLIDING_WINDOW_LOG -> assertThat(admitted).isEqualTo(LIMIT);
            // no window at all: leases held (never released here) cap what is in flight
            case CONCURRENCY -> assertThat(admitted).isEqualTo(LIMIT);
        }
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void bytesPerSubject(Algorithm algorithm) {
        Limit limit = limit(algorithm);
        int subjects = 1_000;
        long total = 0;
        for (int i = 0; i < subjects; i++) {
            Subject s = new Subject("mem", algorithm.value().substring(0, 2) + "-user-" + i);
            store.acquire(s, limit, 1).toCompletableFuture().join();
            String key = KEYS.key(s, KeyScheme.suffix(algorithm));
            int port = cluster.masterPortForSlot(SlotHash.getSlot(key));
            total += (Long) Resp.call(port, "MEMORY", "USAGE", key);
        }
        double mean = total / (double) subjects;
        System.out.printf(
                "AlgorithmsIT memory %s: MEMORY USAGE mean %.1f bytes per subject over %d subjects"
                        + " (key like sl:{mem:%s-user-123}:%s)%n",
                algorithm.value(), mean, subjects, algorithm.value().substring(0, 2), KeyScheme.suffix(algorithm));
        assertThat(mean).isPositive();
    }

    /** The log keeps one entry per unit: bytes per subject with a full log, as a function of the limit. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(longs = {1, 10, 100, 128, 129, 1_000, 10_000})
    void slidingWindowLogBytesGrowWithTheLimit(long logLimit) {
        Limit limit = new Limit(Algorithm.SLIDING_WINDOW_LOG, logLimit, logLimit, PERIOD_MS);
        int subjects = logLimit >= 1_000 ? 5 : 50;
        long total = 0;
        for (int i = 0; i < subjects; i++) {
            Subject s = new Subject("memlog", logLimit + "-user-" + i);
            // a full log: `limit` entries, admitted one by one as a busy client would fill it
            long admitted = 0;
            for (long c = 0; c < logLimit; c += Math.min(logLimit - c, logLimit >= 1_000 ? 100 : 1)) {
                long cost = Math.min(logLimit - c, logLimit >= 1_000 ? 100 : 1);
                if (store.acquire(s, limit, cost).toCompletableFuture().join().allowed()) {
                    admitted += cost;
                }
            }
            assertThat(admitted).isEqualTo(logLimit);
            String key = KEYS.key(s, Algorithm.SLIDING_WINDOW_LOG.suffix());
            int port = cluster.masterPortForSlot(SlotHash.getSlot(key));
            total += (Long) Resp.call(port, "MEMORY", "USAGE", key, "SAMPLES", "0");
        }
        double mean = total / (double) subjects;
        System.out.printf(
                "AlgorithmsIT memory sliding-window-log: limit %d, full log: MEMORY USAGE mean %.0f bytes per subject"
                        + " (%.1f per entry) over %d subjects%n",
                logLimit, mean, mean / logLimit, subjects);
        assertThat(mean).isGreaterThan(logLimit * 8.0);
    }
}
