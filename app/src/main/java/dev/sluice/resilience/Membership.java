package dev.sluice.resilience;

import dev.sluice.config.LocalModeProperties;
import dev.sluice.config.NodeIdentity;
import dev.sluice.core.Limit;
import dev.sluice.core.NodeClock;
import dev.sluice.store.StoreUpkeep;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import jakarta.annotation.PreDestroy;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many service nodes share the store, learned by heartbeats while it answers ({@code
 * limiter.local.*}); the {@code local} failure mode divides each limit by it ({@link #share}). The
 * last count learned is kept while the store is unreachable: an outage is exactly when it cannot be
 * asked. Gauges {@code sluice_local_nodes_live} (-1: never learned) and {@code
 * sluice_local_nodes_divisor}; a change of the count is logged once.
 */
@Context // heartbeats start with the node, before its first check
public class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    private final StoreUpkeep store;
    private final LocalModeProperties properties;
    private final String id;
    private final NodeClock clock;
    private final ScheduledExecutorService beats;
    private volatile long live = -1;
    /**
     * The highest count heard within the last three node-ttls: what limits are divided by. A rise
     * counts at once; a fall only once it has lasted that long, because right after an outage the
     * other nodes' heartbeats have expired and come back one by one, and dividing by too few nodes
     * would over-admit in the next outage (dividing by too many only under-admits).
     */
    private volatile long peak = -1;

    private volatile long peakAtNanos;
    private volatile Runnable onHeartbeat = () -> {};

    public Membership(
            StoreUpkeep store,
            LocalModeProperties properties,
            NodeIdentity node,
            NodeClock clock,
            MeterRegistry meters) {
        if (properties.getNodesFloor() < 1 || properties.getNodesCeiling() < properties.getNodesFloor()) {
            throw new IllegalArgumentException("limiter.local: nodes-floor must be at least 1 and nodes-ceiling at"
                    + " least nodes-floor (were " + properties.getNodesFloor() + " and "
                    + properties.getNodesCeiling() + ")");
        }
        this.store = store;
        this.properties = properties;
        this.id = node.id();
        this.clock = clock;
        Gauge.builder("sluice.local.nodes.live", this, m -> m.live)
                .description("Service nodes sharing the store, as last learned by heartbeat (-1: never learned)")
                .register(meters);
        Gauge.builder("sluice.local.nodes.divisor", this, Membership::nodes)
                .description("What the local failure mode divides each limit by now")
                .register(meters);
        this.beats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, properties.getHeartbeat().toMillis());
        beats.scheduleWithFixedDelay(this::beat, 0, every, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code action} after each heartbeat the store answered (on the client's thread). */
    void onHeartbeat(Runnable action) {
        this.onHeartbeat = action;
    }

    /** This node's id in the store's member set. */
    public String id() {
        return id;
    }

    /** The live node count last learned, or -1 when none was ever learned. */
    public long live() {
        return live;
    }

    /** What a limit is divided by now: the live count clamped to the floor and ceiling (the floor when unknown). */
    public int nodes() {
        long n = peak < 1 ? properties.getNodesFloor() : peak;
        return (int) Math.min(properties.getNodesCeiling(), Math.max(properties.getNodesFloor(), n));
    }

    /**
     * This node's share of {@code limit}: limit and burst divided by {@link #nodes()}, rounded up
     * (so no share is zero; n nodes together admit at most {@code n - 1} units more than the limit).
     */
    public Limit share(Limit limit) {
        return share(limit, nodes());
    }

    /** {@code limit} divided among {@code n} nodes, each rounded up: what each decides on in-process. */
    public static Limit share(Limit limit, int n) {
        if (n == 1) {
            return limit;
        }
        long l = ceilDiv(limit.limit(), n);
        long b = limit.algorithm().hasBurst() ? ceilDiv(limit.burst(), n) : l;
        return new Limit(limit.algorithm(), b, l, limit.periodMs());
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    void beat() {
        try {
            store.heartbeat(id, properties.getNodeTtl().toMillis(), false).whenComplete((count, error) -> {
                if (error == null && count != null) {
                    long now = clock.nanoTime();
                    if (count >= peak
                            || now - peakAtNanos > 3 * properties.getNodeTtl().toNanos()) {
                        peak = count;
                        peakAtNanos = now;
                    }
                    onHeartbeat.run();
                }
                if (error == null && count != null && count != live) {
                    LOG.info(
                            "Service nodes sharing the {} store: {} (was {}); the local failure mode divides"
                                    + " limits by {}",
                            store.kind(),
                            count,
                            live < 0 ? "unknown" : live,
                            nodes());
                    live = count;
                }
            });
        } catch (RuntimeException e) {
            // the store is unreachable: keep the last count; the next beat tries again
        }
    }

    /** Leaves the member set, so the other nodes' shares grow at their next heartbeat. */
    @PreDestroy
    void leave() {
        beats.shutdownNow();
        try {
            store.heartbeat(id, properties.getNodeTtl().toMillis(), true)
                    .toCompletableFuture()
                    .get(500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // best effort: the others stop counting this node after node-ttl anyway
        }
    }
}
