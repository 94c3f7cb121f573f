package dev.sluice.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster of local {@code redis-server} processes: {@code masters} masters with
 * {@code replicasPerMaster} replicas each, built with {@code redis-cli --cluster create}.
 */
public final class RedisCluster implements AutoCloseable {
    private final List<RedisNode> nodes;
    private final Path dir;

    private RedisCluster(List<RedisNode> nodes, Path dir) {
        this.nodes = nodes;
        this.dir = dir;
    }

    /** Starts the nodes, joins them and waits until every slot is served and every replica is in sync. */
    public static RedisCluster start(int masters, int replicasPerMaster) {
        return start(masters, replicasPerMaster, port -> port);
    }

    /**
     * As {@link #start(int, int)}, each node announcing {@code announcedPort.apply(itsPort)} to
     * clients (CLUSTER SLOTS, MOVED, replication) instead of its own port: with a TCP proxy such as
     * Toxiproxy listening there, every client connection goes through the proxy, while the cluster
     * bus between the nodes stays direct. {@code announcedPort} is called before the node starts.
     */
    public static RedisCluster start(
            int masters, int replicasPerMaster, java.util.function.IntUnaryOperator announcedPort) {
        Path dir;
        try {
            dir = Files.createTempDirectory("sluice-redis-cluster-");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int total = masters * (1 + replicasPerMaster);
        List<RedisNode> nodes = new ArrayList<>();
        RedisCluster cluster = new RedisCluster(nodes, dir);
        try {
            for (int i = 0; i < total; i++) {
                int port = FreePorts.withBusPort();
                int announced = announcedPort.applyAsInt(port);
                List<String> args = new ArrayList<>(List.of(
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000",
                        "--repl-diskless-sync", "yes",
                        "--repl-diskless-sync-delay", "0"));
                if (announced != port) {
                    args.addAll(List.of(
                            "--cluster-announce-ip", "127.0.0.1",
                            "--cluster-announce-port", Integer.toString(announced),
                            "--cluster-announce-bus-port", Integer.toString(port + 10000)));
                }
                nodes.add(RedisNode.start(port, dir, args));
            }
            cluster.create(replicasPerMaster);
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private void create(int replicasPerMaster) {
        List<String> command = new ArrayList<>(List.of(RedisBinaries.cli(), "--cluster", "create"));
        nodes.forEach(n -> command.add("127.0.0.1:" + n.port()));
        command.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
        Path log = dir.resolve("cluster-create.log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create failed: " + Files.readString(log));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run redis-cli: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        awaitHealthy(Duration.ofSeconds(30));
    }

    /** Waits until every running node reports {@code cluster_state:ok} and every replica's link is up. */
    public void awaitHealthy(Duration timeout) {
        Waits.until("redis cluster state ok on every node", timeout, () -> nodes.stream()
                .filter(RedisNode::isRunning)
                .allMatch(n -> Resp.text(n.port(), "CLUSTER", "INFO").contains("cluster_state:ok")));
        Waits.until("every replica in sync", timeout, () -> nodes.stream()
                .filter(RedisNode::isRunning)
                .map(n -> Resp.text(n.port(), "INFO", "replication"))
                .filter(info -> info.contains("role:slave"))
                .allMatch(info -> info.contains("master_link_status:up")));
    }

    /** The seed URIs, comma-separated, as {@code redis.uris} / {@code REDIS_URIS} take them. */
    public String uris() {
        return nodes.stream().map(RedisNode::uri).collect(Collectors.joining(","));
    }

    public List<RedisNode> nodes() {
        return List.copyOf(nodes);
    }

    /** The nodes that are masters now, in port order. */
    public List<RedisNode> masters() {
        return nodes.stream()
                .filter(RedisNode::isRunning)
                .filter(n -> Resp.text(n.port(), "INFO", "replication").contains("role:master"))
                .toList();
    }

    /** Which master port serves each slot range: {@code firstSlot -> port}. */
    public Map<Integer, Integer> slotOwners() {
        RedisNode any = nodes.stream().filter(RedisNode::isRunning).findFirst().orElseThrow();
        Map<Integer, Integer> owners = new TreeMap<>();
        for (Object range : (List<?>) Resp.call(any.port(), "CLUSTER", "SLOTS")) {
            List<?> r = (List<?>) range;
            int first = ((Long) r.get(0)).intValue();
            List<?> master = (List<?>) r.get(2);
            owners.put(first, ((Long) master.get(1)).intValue());
        }
        return owners;
    }

    /** The port of the master serving {@code slot}. */
    public int masterPortForSlot(int slot) {
        int port = -1;
        for (Map.Entry<Integer, Integer> e : slotOwners().entrySet()) {
            if (e.getKey() <= slot) {
                port = e.getValue();
            }
        }
        return port;
    }

    /** Deletes every key on every master. */
    public void flushAll() {
        masters().forEach(m -> Resp.call(m.port(), "FLUSHALL"));
    }

    @Override
    public void close() {
        nodes.forEach(RedisNode::close);
    }
}
