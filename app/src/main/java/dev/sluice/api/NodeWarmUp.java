package dev.sluice.api;

import dev.sluice.config.FailureMode;
import dev.sluice.config.Policy;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.limiter.Check;
import dev.sluice.limiter.Limiter;
import dev.sluice.store.StoreUpkeep;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms a starting node's two decision paths before it reports ready:
 *
 * <ul>
 *   <li>the store's ({@link StoreUpkeep#warmUp}): without it the first checks after a start run on
 *       a cold connection and cold code, take longer than the time budget and would be decided by
 *       their failure modes (a fail-closed policy would answer 503);
 *   <li>the failure modes' ({@link #rehearse}, run while the store's warm-up waits for Redis): every
 *       failure mode of every algorithm, its answer written, on subjects no caller uses and without
 *       counting anything ({@link Limiter#rehearseDegraded}). Without it a node's first outage runs
 *       that path cold: its first degraded checks load and link some 150 classes and lambdas and
 *       wake the JIT compilers at the moment the store stopped answering. In the chaos suite, whose
 *       first fault is the first outage of its nodes, those checks took up to 40 ms more than later
 *       ones, and the first fault's p99 went over its bound (budget + 40 ms) in 4 of 11 runs. Not on
 *       the in-process store, which never fails ({@link StoreUpkeep#remote}): 360 checks and ~0.2 s
 *       of a cold start that nothing uses.
 * </ul>
 */
@Singleton
public class NodeWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(NodeWarmUp.class);

    /**
     * Rehearsals of each failure mode and algorithm: the code all degraded checks share runs 18
     * times as often, past the JIT's first compilation threshold (200 calls).
     */
    static final int ROUNDS = 20;

    private final StoreUpkeep store;
    private final Limiter limiter;

    public NodeWarmUp(StoreUpkeep store, Limiter limiter) {
        this.store = store;
        this.limiter = limiter;
    }

    @EventListener
    void onStartup(StartupEvent event) {
        long start = System.nanoTime();
        CompletableFuture<Void> warmed = store.warmUp().toCompletableFuture();
        if (!store.remote()) {
            // the in-process store never fails: its node never decides by a failure mode
            LOG.debug("Store {} warmed up in {} ms; no failure mode to rehearse", store.kind(), millisSince(start));
            return;
        }
        try {
            int rehearsed = rehearse(ROUNDS);
            LOG.debug("Failure modes warmed up: {} degraded checks in {} ms", rehearsed, millisSince(start));
        } catch (RuntimeException e) {
            LOG.warn("Failure modes could not be warmed up ({}); a first outage may answer slower", e.toString());
        }
        try {
            warmed.get(5, TimeUnit.SECONDS);
            LOG.debug("Store {} warmed up in {} ms", store.kind(), millisSince(start));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn(
                    "Store {} could not be warmed up ({}); the first checks may be decided by their failure modes",
                    store.kind(),
                    e.toString());
        }
    }

    /** Runs {@code rounds} degraded checks of each failure mode and algorithm, answers written; how many ran. */
    int rehearse(int rounds) {
        int checks = 0;
        for (FailureMode mode : FailureMode.values()) {
            for (Algorithm algorithm : Algorithm.values()) {
                Policy policy = Policy.of(
                        "sluice-warm-up-" + mode.name().toLowerCase(Locale.ROOT),
                        new Limit(algorithm, 10, 10, 60_000),
                        mode);
                for (int i = 0; i < rounds; i++) {
                    Check check = new Check(policy, "degraded-" + algorithm.value() + "-" + i, 1, null);
                    try {
                        Responses.decision(limiter.rehearseDegraded(check)
                                .toCompletableFuture()
                                .get(1, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return checks;
                    } catch (ExecutionException | TimeoutException e) {
                        throw new IllegalStateException("a rehearsed degraded check failed", e);
                    }
                    checks++;
                }
            }
        }
        return checks;
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }
}
