package dev.sluice.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.multi.yml against the topology MultiRegionIT runs on loopback ({@link
 * RegionTopology}), so that the file cannot rot where no Docker engine runs it: every Sluice node's
 * configuration (its environment read as Micronaut reads it) is the topology's — its region, the
 * token, the sync period, the same policies — each peer URL reaches the peer region's load balancer
 * through a Toxiproxy proxy with the topology's latency both ways, each region's Redis is a 6-node
 * Cluster that keeps deciding when a shard fails (cluster-require-full-coverage no) and its load
 * balancer sends to its own nodes; and {@code docker-compose config} accepts the file (when the
 * command is installed: bin/test installs it).
 */
class ComposeTopologyTest {
    private static final Path ROOT = root();
    private static final Path COMPOSE = ROOT.resolve("docker-compose.multi.yml");

    private static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docker-compose.multi.yml"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException(
                    "docker-compose.multi.yml not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> services() throws IOException {
        Map<String, Object> doc = new Yaml().load(Files.readString(COMPOSE));
        return (Map<String, Map<String, Object>>) (Map<String, ?>) doc.get("services");
    }

    /** A service's environment as the properties Micronaut reads from it (A_B_C: a.b.c), values as strings. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> properties(Map<String, Object> service) {
        Map<String, String> out = new LinkedHashMap<>();
        Object env = service.get("environment");
        if (env instanceof Map<?, ?> m) {
            ((Map<String, Object>) m)
                    .forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), String.valueOf(v)));
        }
        return out;
    }

    /** A property name as an environment variable can spell it (kebab-case parts become dots). */
    private static String spelled(String property) {
        return property.replace('-', '.');
    }

    @Test
    void everyNodeIsConfiguredAsTheLoopbackTopologyIsAndTheLinksReachThePeers() throws Exception {
        Map<String, Map<String, Object>> services = services();
        Map<String, List<String>> nodesOf = new LinkedHashMap<>();
        Pattern node = Pattern.compile("sluice-([a-z]+)-(\\d+)");
        for (String name : services.keySet()) {
            Matcher m = node.matcher(name);
            if (m.matches()) {
                nodesOf.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(name);
            }
        }
        assertThat(nodesOf).as("regions").hasSizeGreaterThanOrEqualTo(2);
        Map<String, String> upstreamOfPort = toxiproxyUpstreams();
        String toxics = Files.readString(ROOT.resolve("deploy/multi-region/toxics.sh"));
        for (Map.Entry<String, List<String>> region : nodesOf.entrySet()) {
            String r = region.getKey();
            assertThat(region.getValue())
                    .as("region " + r + " runs several nodes")
                    .hasSizeGreaterThanOrEqualTo(2);
            for (String n : region.getValue()) {
                Map<String, String> props = properties(services.get(n));
                // the policies, exactly as the loopback nodes run them
                RegionTopology.policies().forEach((k, v) -> assertThat(props.get(spelled(k)))
                        .as(n + " " + k)
                        .isEqualTo(String.valueOf(v)));
                // the region's own part, with a peer URL per other region
                Map<String, String> peers = new LinkedHashMap<>();
                for (String peer : nodesOf.keySet()) {
                    if (!peer.equals(r)) {
                        peers.put(peer, props.get("limiter.region.peers." + peer));
                    }
                }
                Map<String, Object> expected = RegionTopology.region(r, props.get("limiter.region.token"), peers);
                expected.forEach((k, v) ->
                        assertThat(props.get(spelled(k))).as(n + " " + k).isEqualTo(String.valueOf(v)));
                assertThat(props.get("limiter.region.token"))
                        .as(n + ": a region token")
                        .isNotBlank();
                assertThat(props.keySet().stream().filter(k -> k.startsWith("limiter.region.peers.")))
                        .as(n + ": a peer URL for every other region, no more")
                        .hasSize(nodesOf.size() - 1);
                // each peer through Toxiproxy, to the peer region's load balancer
                peers.forEach((peer, url) -> {
                    URI u = URI.create(url);
                    assertThat(u.getHost()).as(n + " -> " + peer).isEqualTo("toxiproxy");
                    assertThat(upstreamOfPort.get(Integer.toString(u.getPort())))
                            .as(n + " -> " + peer + ": the proxy on port " + u.getPort())
                            .isEqualTo("lb-" + peer + ":8080");
                });
                // its region's Redis Cluster, every node of it
                List<String> uris = List.of(props.get("redis.uris").split(","));
                assertThat(uris).as(n + ": redis.uris").hasSize(6);
                for (String uri : uris) {
                    String host = URI.create(uri).getHost();
                    assertThat(host).as(n + ": " + uri).startsWith("redis-" + r + "-");
                    assertThat(String.valueOf(services.get(host).get("command")))
                            .as(host + ": a cluster node that keeps deciding when a shard fails")
                            .contains("--cluster-enabled yes")
                            .contains("--cluster-require-full-coverage no");
                }
                assertThat(props.get("datasources.default.url")).as(n).contains("postgres-" + r);
            }
            // its load balancer: its own nodes, nobody else's
            String cfg = Files.readString(ROOT.resolve("deploy/multi-region/haproxy-" + r + ".cfg"));
            TreeSet<String> servers = new TreeSet<>();
            Matcher m =
                    Pattern.compile("(?m)^\\s*server\\s+\\S+\\s+(\\S+):8080").matcher(cfg);
            while (m.find()) {
                servers.add(m.group(1));
            }
            assertThat(servers).as("lb-" + r).isEqualTo(new TreeSet<>(region.getValue()));
            assertThat(String.valueOf(services.get("lb-" + r).get("volumes"))).contains("haproxy-" + r + ".cfg");
        }
        // the links' latency, both ways, as on loopback
        assertThat(toxics)
                .contains("LATENCY_MS=" + RegionTopology.ONE_WAY_MS + "\n")
                .contains("JITTER_MS=" + RegionTopology.JITTER_MS + "\n")
                .contains("for stream in upstream downstream");
        for (String proxy : upstreamOfPort.values()) {
            assertThat(proxy).startsWith("lb-");
        }
    }

    /** toxiproxy.json: each proxy's listening port and its upstream. */
    private static Map<String, String> toxiproxyUpstreams() throws IOException {
        String json = Files.readString(ROOT.resolve("deploy/multi-region/toxiproxy.json"));
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\"listen\"\\s*:\\s*\"[^\"]*:(\\d+)\"\\s*,\\s*\"upstream\"\\s*:\\s*\"([^\"]+)\"")
                .matcher(json);
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        assertThat(out).as("toxiproxy.json's proxies").isNotEmpty();
        return out;
    }

    @Test
    void dockerComposeAcceptsTheFile() throws Exception {
        Path bin = Path.of("/usr/bin/docker-compose");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.isExecutable(bin), "docker-compose is not installed (bin/test installs it)");
        Process p = new ProcessBuilder(bin.toString(), "-f", COMPOSE.toString(), "config", "-q")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }
}
