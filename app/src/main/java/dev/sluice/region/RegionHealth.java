package dev.sluice.region;

import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;
import org.reactivestreams.Publisher;

/**
 * {@code /health} details {@code regions} (multi-region mode only): this region, per peer region how
 * long ago it last took a batch from this node and last sent this node one, and per global policy
 * the floor demand f, the bound in force and this region's shares of the subjects this node knows.
 * Always UP: a region that cannot reach its peers still decides, on the shares it last had
 * (docs/multi-region.md); the runbook's alerts watch the ages.
 */
@Singleton
public class RegionHealth implements HealthIndicator {
    private final RegionSync sync;
    private final RegionMode mode;
    private final PolicyRegistry policies;

    public RegionHealth(RegionSync sync, RegionMode mode, PolicyRegistry policies) {
        this.sync = sync;
        this.mode = mode;
        this.policies = policies;
    }

    @Override
    public Publisher<HealthResult> getResult() {
        if (!mode.on()) {
            return Publishers.empty();
        }
        RegionProperties p = mode.properties();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("region", p.getName());
        details.put("syncPeriod", p.getSyncPeriod().toString());
        details.put("shipping", sync.active() ? (p.isShipInBackground() ? "background" : "after-requests") : "off");
        Map<String, Object> peers = new LinkedHashMap<>();
        boolean allHeard = sync.everyPeerHeard();
        for (Map.Entry<String, double[]> e : sync.peerAges().entrySet()) {
            Map<String, Object> peer = new LinkedHashMap<>();
            peer.put("lastTookSecondsAgo", finite(e.getValue()[0]));
            peer.put("lastHeardSecondsAgo", finite(e.getValue()[1]));
            peer.put("lagSeconds", finite(e.getValue()[2]));
            peer.put("backlog", (long) e.getValue()[3]);
            peers.put(e.getKey(), peer);
        }
        details.put("peers", peers);
        details.put("activeSubjects", mode.active().size());
        details.put("droppedSubjects", mode.dropped());
        Map<String, Object> global = new LinkedHashMap<>();
        Map<String, RegionMode.ShareStats> stats = mode.shareStats();
        for (Policy policy : policies.all().values()) {
            if (!policy.global()) {
                continue;
            }
            Map<String, Object> g = new LinkedHashMap<>();
            g.put(
                    "floorDemand",
                    RegionShares.floorDemand(policy.limit(), mode.syncMicros(), p.getShareFloor(), p.regions()));
            // O, as docs/multi-region.md derives it: no span admits more than burst + rate x span
            // while every peer's share is held; a peer silent past the expiry has its share reclaimed
            Map<String, String> differ = sync.differing(policy.name());
            // 0 only while every peer is heard of, runs the policy's shape, and this region's store
            // answers or the policy does not fail open (found black-box: b's store down under `open`
            // admitted everything, the bound said 0)
            boolean openWithoutStore = sync.failsOpenWithoutStore(policy);
            g.put("overAdmissionBound", sync.overAdmissionBound(policy) == 0 ? 0.0 : null);
            RegionMode.ShareStats st = stats.getOrDefault(policy.name(), RegionMode.ShareStats.NONE);
            Map<String, Object> share = new LinkedHashMap<>();
            share.put("subjects", st.subjects());
            if (st.subjects() > 0) {
                share.put("min", Math.round(st.min() * 10_000) / 10_000.0);
                share.put("mean", Math.round(st.mean() * 10_000) / 10_000.0);
                share.put("max", Math.round(st.max() * 10_000) / 10_000.0);
            }
            g.put("share", share);
            if (!differ.isEmpty()) {
                // the regions hold no common limit: found black-box, a region at 1,000 a second beside
                // two at 100 admitted everything while every bound said 0
                g.put("shape", RegionSync.shape(policy));
                g.put("differingRegions", differ);
            }
            g.put(
                    "bound",
                    openWithoutStore
                            ? "this region's store does not answer and the policy fails open: this region admits"
                                    + " everything offered to it until the store answers again"
                            : !differ.isEmpty()
                                    ? "regions " + differ.keySet()
                                            + " run this policy with another limit, period or burst"
                                            + " (limit/period ms/burst): no common limit, no bound, until the policy files agree"
                                    : allHeard
                                            ? "admitted <= burst + rate x span in every span (O <= 0)"
                                            : "a peer was silent for longer than peer-expiry: its share is reclaimed; if it still"
                                                    + " decides (and stopped counting this region too), up to the whole rate more");
            global.put(policy.name(), g);
        }
        details.put("globalPolicies", global);
        return Publishers.just(HealthResult.builder("regions", HealthStatus.UP)
                .details(details)
                .build());
    }

    private static Object finite(double seconds) {
        return Double.isNaN(seconds) ? null : Math.round(seconds * 1000) / 1000.0;
    }
}
