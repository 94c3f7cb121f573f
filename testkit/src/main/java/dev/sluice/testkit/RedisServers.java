package dev.sluice.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

/**
 * The Redis servers shared by the tests of one JVM: started on first use, stopped when the test
 * run ends ({@link RedisServersExtension}) or, failing that, when the JVM exits.
 */
public final class RedisServers {
    private static RedisNode standalone;
    private static RedisCluster cluster;
    private static PostgresServer postgres;

    private RedisServers() {}

    /** A standalone Redis. */
    public static synchronized RedisNode standalone() {
        if (standalone == null || !standalone.isRunning()) {
            try {
                standalone = RedisNode.start(
                        FreePorts.any(), Files.createTempDirectory("sluice-redis-standalone-"), List.of());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return standalone;
    }

    /** A 6-node Redis Cluster: 3 masters, one replica each. */
    public static synchronized RedisCluster cluster() {
        if (cluster == null) {
            cluster = RedisCluster.start(3, 1);
        }
        return cluster;
    }

    /** A PostgreSQL server, shared like the Redis servers (each test uses a database or schema of its own). */
    public static synchronized PostgresServer postgres() {
        if (postgres == null || !postgres.isRunning()) {
            postgres = PostgresServer.start();
        }
        return postgres;
    }

    static synchronized void stopAll() {
        if (postgres != null) {
            postgres.close();
            postgres = null;
        }
        if (standalone != null) {
            standalone.close();
            standalone = null;
        }
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }
}
