package dev.sluice.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;

/**
 * The embedded database of {@code bin/run --with-db} and the benchmarks: a real PostgreSQL 16
 * server (zonky binaries from Maven Central, nothing to install) on 127.0.0.1, with its data in a
 * directory that survives restarts, and a database {@code sluice} in it. Prints {@code ready
 * <jdbc url>} when it accepts connections; stops the server when the process is told to stop.
 *
 * <pre>java -cp ... dev.sluice.testkit.PostgresMain &lt;data directory&gt; &lt;port&gt;</pre>
 */
public final class PostgresMain {
    private PostgresMain() {}

    public static void main(String[] args) throws IOException, SQLException, InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: PostgresMain <data directory> <port>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        Files.createDirectories(dir);
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setServerConfig("listen_addresses", "127.0.0.1")
                // statement counts for the benchmarks ("0 queries per check"): pg_stat_statements
                .setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                pg.close();
            } catch (IOException e) {
                System.err.println("stopping PostgreSQL: " + e);
            }
            stopped.countDown();
        }));
        try (Connection c = pg.getPostgresDatabase().getConnection();
                Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet r = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'sluice'")) {
                exists = r.next();
            }
            if (!exists) {
                s.execute("CREATE DATABASE sluice");
            }
        }
        System.out.println("ready jdbc:postgresql://127.0.0.1:" + port + "/sluice user postgres password postgres");
        System.out.flush();
        stopped.await();
    }
}
