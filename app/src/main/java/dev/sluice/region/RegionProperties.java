package dev.sluice.region;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multi-region mode, {@code limiter.region.*} (docs/multi-region.md): this node's region, its peer
 * regions and how to reach them. A policy with {@code regions: global} then holds one limit across
 * all regions together: each region decides on its own Redis with a share of the limit, and the
 * regions tell each other their demand every {@code sync-period}. Without peers every policy is
 * regional (each region its own limit), as in a single region.
 */
@ConfigurationProperties("limiter.region")
public class RegionProperties {
    /** This region's name ({@code [a-z0-9][a-z0-9-]{0,31}}); required once peers are set. */
    private String name;

    /** The peer regions: name to the base URL of that region's Sluice service (its load balancer). */
    private Map<String, String> peers = new LinkedHashMap<>();

    /**
     * The shared secret regions present to each other ({@code Authorization: Bearer}); required
     * once peers are set. Every region must be given the same.
     */
    private String token;

    /** S: how often a region ships its demand to the others. Default 1s. */
    private Duration syncPeriod = Duration.ofSeconds(1);

    /**
     * What is kept for idle regions, as a fraction of the limit split over the regions: every region
     * holds at least share-floor / R of a global policy however large the others' demand, and is
     * counted with that fraction of the rate per sync period (f) on top of its own demand. Default
     * 0.05.
     */
    private double shareFloor = 0.05;

    /**
     * A peer region not heard of for this long no longer holds its share (it is reclaimed by the
     * regions still heard). Default 1h: a partition shorter than this costs nothing above the limit.
     */
    private Duration peerExpiry = Duration.ofHours(1);

    /** How long a shipment to a peer may take before it counts as not taken. Default 2s. */
    private Duration shipTimeout = Duration.ofSeconds(2);

    /**
     * Whether a background thread ships every sync period (default true). A function runtime that
     * freezes the process between invocations sets it false: its handlers ship after a request
     * instead, at most once a period ({@link RegionSync#shipIfDue()}).
     */
    private boolean shipInBackground = true;

    public boolean isShipInBackground() {
        return shipInBackground;
    }

    public void setShipInBackground(boolean shipInBackground) {
        this.shipInBackground = shipInBackground;
    }

    /** The most subjects of global policies a node ships at once; more are counted as dropped. Default 100,000. */
    private int maxSubjects = 100_000;

    /** Whether multi-region mode is on: a name and at least one peer. */
    public boolean enabled() {
        return name != null && !name.isBlank() && peers != null && !peers.isEmpty();
    }

    /** R, the number of regions: this one and its peers. */
    public int regions() {
        return enabled() ? peers.size() + 1 : 1;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public Map<String, String> getPeers() {
        return peers;
    }

    public void setPeers(Map<String, String> peers) {
        this.peers = peers;
    }

    public String getToken() {
        return token;
    }

    public void setToken(String token) {
        this.token = token;
    }

    public Duration getSyncPeriod() {
        return syncPeriod;
    }

    public void setSyncPeriod(Duration syncPeriod) {
        this.syncPeriod = syncPeriod;
    }

    public double getShareFloor() {
        return shareFloor;
    }

    public void setShareFloor(double shareFloor) {
        this.shareFloor = shareFloor;
    }

    public Duration getPeerExpiry() {
        return peerExpiry;
    }

    public void setPeerExpiry(Duration peerExpiry) {
        this.peerExpiry = peerExpiry;
    }

    public Duration getShipTimeout() {
        return shipTimeout;
    }

    public void setShipTimeout(Duration shipTimeout) {
        this.shipTimeout = shipTimeout;
    }

    public int getMaxSubjects() {
        return maxSubjects;
    }

    public void setMaxSubjects(int maxSubjects) {
        this.maxSubjects = maxSubjects;
    }
}
