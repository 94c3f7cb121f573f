package dev.sluice.store;

import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the store up while the node starts ({@link StoreUpkeep#warmUp}): without it the first
 * checks after a start run on a cold connection and cold code, take longer than the time budget
 * and would be decided by their failure modes (a fail-closed policy would answer 503).
 */
@Singleton
public class StoreWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(StoreWarmUp.class);

    private final StoreUpkeep store;

    public StoreWarmUp(StoreUpkeep store) {
        this.store = store;
    }

    @EventListener
    void onStartup(StartupEvent event) {
        long start = System.nanoTime();
        try {
            store.warmUp().toCompletableFuture().get(5, TimeUnit.SECONDS);
            LOG.debug("Store {} warmed up in {} ms", store.kind(), (System.nanoTime() - start) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn(
                    "Store {} could not be warmed up ({}); the first checks may be decided by their failure modes",
                    store.kind(),
                    e.toString());
        }
    }
}
