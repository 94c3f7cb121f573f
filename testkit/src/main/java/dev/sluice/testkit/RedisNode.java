package dev.sluice.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One {@code redis-server} process on 127.0.0.1, with no persistence. */
public final class RedisNode implements AutoCloseable {
    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    private ManagedProcess process;

    private RedisNode(int port, Path dir, List<String> extraArgs) {
        this.port = port;
        this.dir = dir;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /** Starts a node on {@code port} in a directory of its own and waits until it answers PING. */
    public static RedisNode start(int port, Path parentDir, List<String> extraArgs) {
        try {
            Path dir = Files.createDirectories(parentDir.resolve("redis-" + port));
            RedisNode node = new RedisNode(port, dir, extraArgs);
            node.launch();
            return node;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void launch() {
        List<String> command = new ArrayList<>(List.of(
                RedisBinaries.server(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString(),
                "--logfile",
                ""));
        command.addAll(extraArgs);
        process = ManagedProcess.start("redis-server:" + port, command, dir, dir.resolve("redis.log"));
        Waits.until("redis-server on port " + port + " (log: " + process.log() + ")", Duration.ofSeconds(10), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server on " + port + " exited; see " + process.log());
            }
            return "PONG".equals(Resp.text(port, "PING"));
        });
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the process (SIGKILL), as a crash would. */
    public void kill() {
        process.kill();
    }

    /** Stops the process (SIGSTOP): its connections stay open and nothing is answered until {@link #resume()}. */
    public void pause() {
        process.signal("STOP");
    }

    /** Lets a {@link #pause() paused} node run again (SIGCONT). */
    public void resume() {
        process.signal("CONT");
    }

    /** Starts the node again on the same port and directory after {@link #kill()} or {@link #close()}. */
    public void restart() {
        if (isRunning()) {
            throw new IllegalStateException("redis on " + port + " is still running");
        }
        launch();
    }

    public Object call(String... args) {
        return Resp.call(port, args);
    }

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }
}
