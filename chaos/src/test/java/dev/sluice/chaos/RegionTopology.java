package dev.sluice.chaos;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The multi-region topology, defined once: what {@link MultiRegionIT} starts on loopback and what
 * docker-compose.multi.yml describes for Docker — each region's nodes configured with its name, the
 * region token, the sync period, a peer URL per other region (through Toxiproxy) and the same
 * policies; the links 75 ± 10 ms each way. {@link ComposeTopologyTest} holds the compose file to it,
 * so the two cannot drift apart.
 */
final class RegionTopology {
    /** Each way, on every link between regions (a round trip of 150 ± 20 ms). */
    static final long ONE_WAY_MS = 75;

    static final long JITTER_MS = 10;

    static final String SYNC_PERIOD = "1s";

    /** The global policy the tests measure: 100 a second, burst 100. */
    static final long GLOBAL_LIMIT = 100;

    private RegionTopology() {}

    /** The policies every region's nodes run. */
    static Map<String, Object> policies() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("limiter.policies.global.limit", GLOBAL_LIMIT);
        p.put("limiter.policies.global.period", "1s");
        p.put("limiter.policies.global.regions", "global");
        p.put("limiter.policies.minute.limit", 6000);
        p.put("limiter.policies.minute.period", "1m");
        p.put("limiter.policies.minute.regions", "global");
        p.put("limiter.policies.wide.limit", 100_000);
        p.put("limiter.policies.wide.period", "1s");
        p.put("limiter.policies.wide.regions", "global");
        p.put("limiter.policies.regional.limit", 50);
        p.put("limiter.policies.regional.period", "1s");
        return p;
    }

    /** A node's region configuration: its region, the token, the sync period and each peer's URL. */
    static Map<String, Object> region(String name, String token, Map<String, String> peerUrls) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("limiter.region.name", name);
        p.put("limiter.region.token", token);
        p.put("limiter.region.sync-period", SYNC_PERIOD);
        peerUrls.forEach((peer, url) -> p.put("limiter.region.peers." + peer, url));
        return p;
    }
}
