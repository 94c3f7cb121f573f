package dev.sluice.resilience;

import dev.sluice.observability.DecisionMetrics;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.StoreShards;
import dev.sluice.store.Subject;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether each shard of the store answered its last decision call: a shard that failed has its
 * subjects decided by their policies' failure modes until a call to it succeeds again; the other
 * shards keep deciding. A change is logged once per shard — a shard that flaps is logged at most
 * once per {@link #QUIET_MS} each way, the changes in between counted into the next line — and
 * shown as {@code sluice_store_degraded} (1 while any shard is failed) and {@code
 * sluice_store_failed_shards}; never a line per request. A shard's return runs what waits for it
 * ({@link #onRecovery}: the local mode's reconciliation).
 */
@Singleton
public class StoreHealth {
    private static final Logger LOG = LoggerFactory.getLogger(StoreHealth.class);

    /** A flapping shard is logged at most once per this many ms each way. */
    static final long QUIET_MS = 10_000;

    /**
     * A failed shard that no call has failed on for this long while other shards answer is
     * forgotten: after a failover its slots belong to another master, and no subject's call will
     * ever succeed on it to bring it back (found black-box: {@code sluice_store_degraded} stayed 1
     * and {@code /health} said degraded after every failover, until a restart).
     */
    static final long FORGET_MS = 5_000;

    private final String store;
    private final DecisionMetrics metrics;
    private final StoreShards shards;
    /** The failed shards, each with when its failure was last logged and the changes not logged since. */
    private final Map<Object, Logged> failed = new ConcurrentHashMap<>();
    /** When each shard's change was last logged, kept across its failures to quiet a flapping one. */
    private final Map<Object, Logged> lastLogged = new ConcurrentHashMap<>();

    private final List<Runnable> onRecovery = new CopyOnWriteArrayList<>();

    private static final class Logged {
        volatile long failedAt; // epoch ms; 0: never
        volatile long recoveredAt;
        volatile int unlogged;
        /** When a call on the shard last failed (epoch ms). */
        volatile long lastFailure;
    }

    @Inject
    public StoreHealth(RateLimitStore store, DecisionMetrics metrics, Optional<StoreShards> shards) {
        this.store = store.kind();
        this.metrics = metrics;
        this.shards = shards.orElse(StoreShards.ONE);
        metrics.watchFailedShards(this::failedShards);
    }

    /** A store of one shard. */
    public StoreHealth(RateLimitStore store, DecisionMetrics metrics) {
        this(store, metrics, Optional.empty());
    }

    /** Whether every shard answered its last call (false: some subjects are decided by their failure modes). */
    public boolean answers() {
        forgetSilent();
        return failed.isEmpty();
    }

    /** How many shards are failed now. */
    public int failedShards() {
        forgetSilent();
        return failed.size();
    }

    /** Forgets the failed shards no call has failed on for {@link #FORGET_MS}. */
    private void forgetSilent() {
        if (failed.isEmpty()) {
            return;
        }
        long now = System.currentTimeMillis();
        for (Map.Entry<Object, Logged> e : failed.entrySet()) {
            if (now - e.getValue().lastFailure >= FORGET_MS) {
                recovered(
                        e.getKey(),
                        "no call has failed on it for " + FORGET_MS / 1000
                                + " s (failed over, its slots served elsewhere, or no traffic for it)");
            }
        }
    }

    /** A store call of a single-shard store succeeded. */
    public void succeeded() {
        if (!failed.isEmpty()) {
            recovered(StoreShards.ONE.shardOf(null), null);
        }
    }

    /** A store call for {@code subject} succeeded: its shard answers; shards no call fails on any more are forgotten. */
    public void succeeded(Subject subject) {
        if (!failed.isEmpty()) {
            recovered(shards.shardOf(subject), null);
            forgetSilent();
        }
    }

    /** A store call of a single-shard store failed with {@code error}. */
    public void failed(Throwable error) {
        failedShard(StoreShards.ONE.shardOf(null), error);
    }

    /** A store call for {@code subject} failed with {@code error}: its shard is failed. */
    public void failed(Subject subject, Throwable error) {
        failedShard(shards.shardOf(subject), error);
    }

    private void failedShard(Object shard, Throwable error) {
        Logged known = failed.get(shard);
        if (known != null) {
            known.lastFailure = System.currentTimeMillis();
            return;
        }
        Logged log = lastLogged.computeIfAbsent(shard, s -> new Logged());
        log.lastFailure = System.currentTimeMillis();
        if (failed.putIfAbsent(shard, log) != null) {
            return;
        }
        if (failed.size() == 1) {
            metrics.storeDegraded(true);
        }
        long now = System.currentTimeMillis();
        if (now - log.failedAt >= QUIET_MS) {
            log.failedAt = now;
            LOG.warn(
                    "Store {} shard {} failed ({}): its subjects decide by their on-store-failure mode{}",
                    store,
                    shard,
                    error.toString(),
                    unlogged(log));
        } else {
            log.unlogged++;
        }
    }

    private void recovered(Object shard, String forgotten) {
        Logged log = failed.remove(shard);
        if (log == null) {
            return;
        }
        if (failed.isEmpty()) {
            metrics.storeDegraded(false);
        }
        long now = System.currentTimeMillis();
        if (forgotten != null) {
            LOG.info("Store {} shard {} forgotten: {}", store, shard, forgotten);
        } else if (now - log.recoveredAt >= QUIET_MS) {
            log.recoveredAt = now;
            LOG.info(
                    "Store {} shard {} answers again: its subjects are decided by the store again{}",
                    store,
                    shard,
                    unlogged(log));
        } else {
            log.unlogged++;
        }
        onRecovery.forEach(Runnable::run);
    }

    /** The changes of {@code log}'s shard not logged since its last line, for the next one (and forgotten). */
    private static String unlogged(Logged log) {
        int quiet = log.unlogged;
        log.unlogged = 0;
        return quiet == 0 ? "" : " (" + quiet + " changes not logged in the last " + QUIET_MS / 1000 + " s)";
    }

    /** Runs {@code action} each time a shard answers again after failing (on the answering thread). */
    void onRecovery(Runnable action) {
        onRecovery.add(action);
    }
}
