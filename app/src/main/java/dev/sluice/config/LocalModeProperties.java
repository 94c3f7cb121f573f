package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/**
 * The {@code local} failure mode, {@code limiter.local.*}: while the store is unreachable, each node
 * decides with its own in-process buckets holding its share of each limit, the limit divided by the
 * number of live service nodes. The nodes count themselves through the store (a heartbeat each
 * {@code heartbeat}); the count last learned while the store answered is kept through an outage and
 * clamped to {@code [nodes-floor, nodes-ceiling]}. See docs/resilience.md.
 */
@ConfigurationProperties("limiter.local")
public class LocalModeProperties {
    /** How often this node tells the store it is alive. Default 1s. */
    private Duration heartbeat = Duration.ofSeconds(1);

    /** A node not heard from for this long is no longer counted. Default 5s. */
    private Duration nodeTtl = Duration.ofSeconds(5);

    /**
     * The least node count a limit is divided by, also used when no count was ever learned (a node
     * that starts during an outage). Default 1. Set it to the deployment's minimum replica count.
     */
    private int nodesFloor = 1;

    /** The largest node count a limit is divided by. Default 1000. */
    private int nodesCeiling = 1000;

    /** Subjects reconciled into the store per batch when it answers again. Default 256. */
    private int reconcileBatch = 256;

    public Duration getHeartbeat() {
        return heartbeat;
    }

    public void setHeartbeat(Duration heartbeat) {
        this.heartbeat = heartbeat;
    }

    public Duration getNodeTtl() {
        return nodeTtl;
    }

    public void setNodeTtl(Duration nodeTtl) {
        this.nodeTtl = nodeTtl;
    }

    public int getNodesFloor() {
        return nodesFloor;
    }

    public void setNodesFloor(int nodesFloor) {
        this.nodesFloor = nodesFloor;
    }

    public int getNodesCeiling() {
        return nodesCeiling;
    }

    public void setNodesCeiling(int nodesCeiling) {
        this.nodesCeiling = nodesCeiling;
    }

    public int getReconcileBatch() {
        return reconcileBatch;
    }

    public void setReconcileBatch(int reconcileBatch) {
        this.reconcileBatch = reconcileBatch;
    }
}
