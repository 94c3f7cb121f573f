package dev.sluice.store;

import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import java.util.concurrent.CompletionStage;

/**
 * A store that can decide at a time its caller gives, so that a run can be replayed exactly: the
 * differential tests compare each Redis script with its Java twin this way. The decision path never
 * uses it; it takes the store's own clock ({@link RateLimitStore#acquire}).
 */
public interface ClockedStore {
    /**
     * As {@link #acquire}, at the explicit time {@code nowMicros} (epoch microseconds) instead of the
     * store's clock: for tests and the simulator, so that runs are deterministic.
     */
    CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros);
}
