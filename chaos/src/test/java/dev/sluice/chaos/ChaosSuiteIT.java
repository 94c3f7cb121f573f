package dev.sluice.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.chaos.toxiproxy.ToxiproxyServer;
import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.Haproxy;
import dev.sluice.testkit.RedisCluster;
import dev.sluice.testkit.RedisNode;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every chaos scenario × failure mode, in CI: a 6-node Redis Cluster whose every client connection
 * goes through a Toxiproxy proxy (the nodes announce the proxies' ports), three Sluice nodes
 * sharing it, haproxy in front of them, and the scenarios of {@link ChaosRun} driving the faults
 * through toxiproxy-java. A real Toxiproxy is used when {@code TOXIPROXY_URL} is set (it must be
 * able to reach 127.0.0.1); otherwise the Toxiproxy-compatible server of this module.
 *
 * <p>The report is written to {@code chaos/target/chaos-report/} (and to {@code
 * -Dchaos.report.dir=...} when given, as for docs/chaos/).
 */
class ChaosSuiteIT {
    private static ToxiproxyServer embedded;
    private static URI toxiproxyUrl;
    private static RedisCluster cluster;
    private static final Map<Integer, Integer> REAL_PORT_BY_PROXY_PORT = new HashMap<>();
    private static final List<ApplicationContext> NODES = new ArrayList<>();
    private static Haproxy haproxy;
    private static RedisNode killed;

    @BeforeAll
    static void start() throws Exception {
        String external = System.getenv("TOXIPROXY_URL");
        if (external != null && !external.isBlank()) {
            toxiproxyUrl = URI.create(external);
        } else {
            embedded = ToxiproxyServer.start(0);
            toxiproxyUrl = URI.create(embedded.url());
        }
        ToxiproxyClient client = new ToxiproxyClient(toxiproxyUrl.getHost(), toxiproxyUrl.getPort());
        cluster = RedisCluster.start(3, 1, port -> {
            int proxyPort = FreePorts.any();
            try {
                client.createProxy("redis-" + port, "127.0.0.1:" + proxyPort, "127.0.0.1:" + port);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            REAL_PORT_BY_PROXY_PORT.put(proxyPort, port);
            return proxyPort;
        });
        String seeds = REAL_PORT_BY_PROXY_PORT.keySet().stream()
                .map(p -> "redis://127.0.0.1:" + p)
                .collect(Collectors.joining(","));
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Map<String, Object> p = new HashMap<>();
            p.put("micronaut.server.port", -1);
            p.put("redis.uris", seeds);
            for (String mode : ChaosRun.MODES) {
                p.put("limiter.policies.chaos-" + mode + ".limit", 60);
                p.put("limiter.policies.chaos-" + mode + ".period", "1h");
                p.put("limiter.policies.chaos-" + mode + ".on-store-failure", mode);
            }
            EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, p);
            NODES.add(server.getApplicationContext());
            ports.add(server.getPort());
        }
        haproxy = Haproxy.start(ports);
    }

    @AfterAll
    static void stop() {
        if (haproxy != null) {
            haproxy.close();
        }
        NODES.forEach(ApplicationContext::close);
        if (cluster != null) {
            cluster.close();
        }
        if (embedded != null) {
            embedded.close();
        }
    }

    /** Kills the master serving a slot (found through the proxy port it announces); restores it as a replica. */
    private static final Fault.MasterKiller KILLER = new Fault.MasterKiller() {
        @Override
        public void kill(int slot) {
            int announced = cluster.masterPortForSlot(slot);
            int real = REAL_PORT_BY_PROXY_PORT.get(announced);
            killed = cluster.nodes().stream()
                    .filter(n -> n.port() == real)
                    .findFirst()
                    .orElseThrow();
            killed.kill();
        }

        @Override
        public void restore() {
            if (killed != null && !killed.isRunning()) {
                killed.restart();
                cluster.awaitHealthy(Duration.ofSeconds(30));
            }
        }
    };

    @Test
    void everyScenarioAndModeHoldsItsPromises() throws Exception {
        // -Dchaos.scenarios=latency-50ms,down runs only those (a whole row count is asserted only for all)
        List<String> scenarios = List.of(
                        System.getProperty("chaos.scenarios", "").split(","))
                .stream()
                .filter(x -> !x.isBlank())
                .toList();
        Map<String, String> policies = new LinkedHashMap<>();
        ChaosRun.MODES.forEach(m -> policies.put(m, "chaos-" + m));
        ChaosRun.Settings settings = new ChaosRun.Settings(
                URI.create(haproxy.url()),
                toxiproxyUrl,
                "redis-",
                policies,
                150,
                Duration.ofSeconds(4),
                Duration.ofSeconds(10),
                10,
                40,
                KILLER,
                scenarios);
        Report report = new ChaosRun(settings, line -> System.out.println("ChaosSuiteIT " + line)).run();
        report.write(Path.of("target", "chaos-report"));
        String extra = System.getProperty("chaos.report.dir");
        if (extra != null && !extra.isBlank()) {
            report.write(Path.of(extra));
        }
        System.out.println(report.markdown());
        assertThat(report.rows()).hasSize((scenarios.isEmpty() ? 9 : scenarios.size()) * 3);
        assertThat(report.failures()).isEmpty();
    }
}
