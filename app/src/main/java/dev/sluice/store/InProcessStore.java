package dev.sluice.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.Outcome;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * Limits in this JVM's memory, decided by the same twins ({@link Limit#decide}) the Redis scripts
 * are compared with.
 * Limits then hold per node, not across nodes. Each entry expires when its bucket would be full.
 */
public final class InProcessStore implements RateLimitStore {
    private final Cache<Subject, Entry> buckets;
    private final LongSupplier clockMicros;

    private record Entry(Algorithm algorithm, String state, long ttlMs) {}

    /** @param clockMicros the clock, in epoch microseconds */
    public InProcessStore(LongSupplier clockMicros) {
        this.clockMicros = clockMicros;
        this.buckets = Caffeine.newBuilder()
                .expireAfter(new Expiry<Subject, Entry>() {
                    @Override
                    public long expireAfterCreate(Subject key, Entry value, long currentTime) {
                        return value.ttlMs() * 1_000_000L;
                    }

                    @Override
                    public long expireAfterUpdate(Subject key, Entry value, long currentTime, long currentDuration) {
                        return value.ttlMs() * 1_000_000L;
                    }

                    @Override
                    public long expireAfterRead(Subject key, Entry value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    public InProcessStore() {
        this(InProcessStore::systemMicros);
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return acquireAt(subject, limit, cost, clockMicros.getAsLong());
    }

    @Override
    public CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros) {
        Decision[] decision = new Decision[1];
        buckets.asMap().compute(subject, (k, entry) -> {
            String stored = entry == null || entry.algorithm() != limit.algorithm() ? null : entry.state();
            Outcome outcome = limit.decide(stored, cost, nowMicros);
            decision[0] = outcome.decision();
            return outcome.write() == null ? entry : new Entry(limit.algorithm(), outcome.write(), outcome.ttlMs());
        });
        return CompletableFuture.completedFuture(decision[0]);
    }

    /** The wall clock in epoch microseconds. */
    public static long systemMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        buckets.invalidate(subject);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public String kind() {
        return "in-process";
    }
}
