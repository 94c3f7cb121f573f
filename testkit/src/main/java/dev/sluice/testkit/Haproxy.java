package dev.sluice.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real haproxy on 127.0.0.1 balancing HTTP requests round-robin over local backends, keeping
 * connections to them alive (as a production balancer does: a new backend connection per request
 * would cap the nodes far below what they answer).
 */
public final class Haproxy implements AutoCloseable {
    private final int port;
    private final ManagedProcess process;

    private Haproxy(int port, ManagedProcess process) {
        this.port = port;
        this.process = process;
    }

    public static Haproxy start(List<Integer> backendPorts) {
        int port = FreePorts.any();
        try {
            Path dir = Files.createTempDirectory("sluice-haproxy-");
            StringBuilder cfg = new StringBuilder()
                    .append("global\n  maxconn 4096\n\n")
                    .append("defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n")
                    .append("  timeout server 30s\n  option http-keep-alive\n\n")
                    .append("frontend sluice\n  bind 127.0.0.1:")
                    .append(port)
                    .append("\n  default_backend nodes\n\n")
                    .append("backend nodes\n  balance roundrobin\n");
            for (int i = 0; i < backendPorts.size(); i++) {
                cfg.append("  server node")
                        .append(i)
                        .append(" 127.0.0.1:")
                        .append(backendPorts.get(i))
                        .append('\n');
            }
            Path config = Files.writeString(dir.resolve("haproxy.cfg"), cfg.toString());
            String binary = Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
            ManagedProcess process = ManagedProcess.start(
                    "haproxy", List.of(binary, "-db", "-f", config.toString()), dir, dir.resolve("haproxy.log"));
            Waits.until("haproxy on port " + port, Duration.ofSeconds(10), () -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("haproxy exited; see " + process.log());
                }
                try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            return new Haproxy(port, process);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        process.close();
    }
}
