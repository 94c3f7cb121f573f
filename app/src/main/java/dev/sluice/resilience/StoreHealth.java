package dev.sluice.resilience;

import dev.sluice.observability.DecisionMetrics;
import dev.sluice.store.RateLimitStore;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the store answered its last decision call: true while decisions are shared, false while
 * they are taken by the policies' failure modes. Every call's outcome is reported here; a change is
 * logged once and shown as {@code sluice_store_degraded} — never a line per request. The store's
 * return runs what waits for it ({@link #onRecovery}: the local mode's reconciliation).
 */
@Singleton
public class StoreHealth {
    private static final Logger LOG = LoggerFactory.getLogger(StoreHealth.class);

    private final String store;
    private final DecisionMetrics metrics;
    private final AtomicBoolean answers = new AtomicBoolean(true);
    private final List<Runnable> onRecovery = new CopyOnWriteArrayList<>();

    public StoreHealth(RateLimitStore store, DecisionMetrics metrics) {
        this.store = store.kind();
        this.metrics = metrics;
    }

    /** Whether the last store call succeeded (false: checks are decided by their failure modes). */
    public boolean answers() {
        return answers.get();
    }

    /** A store call succeeded. */
    public void succeeded() {
        if (answers.compareAndSet(false, true)) {
            metrics.storeDegraded(false);
            LOG.info("Store {} answers again: decisions are shared again", store);
            onRecovery.forEach(Runnable::run);
        }
    }

    /** A store call failed with {@code error}. */
    public void failed(Throwable error) {
        if (answers.compareAndSet(true, false)) {
            metrics.storeDegraded(true);
            LOG.warn(
                    "Store {} failed ({}): policies now decide by their on-store-failure mode",
                    store,
                    error.toString());
        }
    }

    /** Runs {@code action} each time the store answers again after failing (on the answering thread). */
    void onRecovery(Runnable action) {
        onRecovery.add(action);
    }
}
