package dev.sluice.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real PostgreSQL server (16, from the zonky binaries on Maven Central) as a local process on a
 * free loopback port, with its own data directory: it can be stopped and started again on the same
 * port and data, as an outage would.
 */
public final class PostgresServer implements AutoCloseable {
    private final int port;
    private final Path dataDir;
    private EmbeddedPostgres postgres;

    private PostgresServer(int port, Path dataDir) {
        this.port = port;
        this.dataDir = dataDir;
    }

    public static PostgresServer start() {
        try {
            PostgresServer server = new PostgresServer(FreePorts.any(), Files.createTempDirectory("sluice-postgres-"));
            server.launch();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void launch() {
        try {
            postgres = EmbeddedPostgres.builder()
                    .setPort(port)
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL did not start on port " + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
    }

    /** The JDBC URL of the {@code postgres} database. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String user() {
        return "postgres";
    }

    public String password() {
        return "postgres";
    }

    public boolean isRunning() {
        return postgres != null;
    }

    /** Stops the server (fast shutdown), keeping its data. */
    public void stop() {
        if (postgres != null) {
            try {
                postgres.close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } finally {
                postgres = null;
            }
        }
    }

    /** Starts the server again on the same port and data after {@link #stop()}. */
    public void restart() {
        if (postgres != null) {
            throw new IllegalStateException("PostgreSQL on " + port + " is still running");
        }
        launch();
    }

    @Override
    public void close() {
        stop();
    }
}
