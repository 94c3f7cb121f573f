package dev.sluice.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Concurrency;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.NodeClock;
import dev.sluice.core.Outcome;
import dev.sluice.core.PlanQuota;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * Limits in this JVM's memory, decided by the same twins ({@link Limit#decide}) the Redis scripts
 * are compared with. Limits then hold per node, not across nodes. Each entry expires when its
 * script's key would.
 */
public final class InProcessStore implements RateLimitStore, PlanStore, StoreUpkeep, ClockedStore {
    private final Cache<StateKey, Entry> states;
    private final LongSupplier clockMicros;

    /** Like a Redis key: one state per subject and state suffix (gcra shares the token bucket's). */
    private record StateKey(Subject subject, String suffix) {}

    private record Entry(String state, long ttlMs) {}

    /** @param clockMicros the clock, in epoch microseconds */
    public InProcessStore(LongSupplier clockMicros) {
        this(clockMicros, System::nanoTime);
    }

    /** Decides and expires by {@code clock}. */
    public InProcessStore(NodeClock clock) {
        this(clock::micros, clock::nanoTime);
    }

    private InProcessStore(LongSupplier clockMicros, com.github.benmanes.caffeine.cache.Ticker ticker) {
        this.clockMicros = clockMicros;
        this.states = Caffeine.newBuilder()
                .ticker(ticker)
                .expireAfter(new Expiry<StateKey, Entry>() {
                    @Override
                    public long expireAfterCreate(StateKey key, Entry value, long currentTime) {
                        return Math.max(0, value.ttlMs()) * 1_000_000L;
                    }

                    @Override
                    public long expireAfterUpdate(StateKey key, Entry value, long currentTime, long currentDuration) {
                        return value.ttlMs() < 0 ? currentDuration : value.ttlMs() * 1_000_000L;
                    }

                    @Override
                    public long expireAfterRead(StateKey key, Entry value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    public InProcessStore() {
        this(NodeClock.SYSTEM);
    }

    @Override
    public CompletionStage<Decision> acquire(Subject subject, Limit limit, long cost) {
        return acquireAt(subject, limit, cost, clockMicros.getAsLong());
    }

    @Override
    public CompletionStage<Decision> acquireAt(Subject subject, Limit limit, long cost, long nowMicros) {
        String token = limit.algorithm() == Algorithm.CONCURRENCY && cost > 0 ? LeaseTokens.next() : null;
        Decision[] decision = new Decision[1];
        apply(new StateKey(subject, limit.algorithm().suffix()), stored -> {
            Outcome outcome = limit.decide(stored, cost, nowMicros, token);
            decision[0] = outcome.decision();
            return outcome;
        });
        return CompletableFuture.completedFuture(decision[0]);
    }

    /** Serialise the steps of a plan check, a plan reset or a charge of one subject (striped by subject). */
    private final Object[] subjectLocks = new Object[64];

    {
        for (int i = 0; i < subjectLocks.length; i++) {
            subjectLocks[i] = new Object();
        }
    }

    /**
     * The twin of the scripts' charge (prelude.lua): taken whole, even beyond what is left ({@link
     * Limit#charge}); marker and decision under the subject's lock.
     */
    @Override
    public CompletionStage<Decision> charge(Subject subject, Limit limit, long units, String chargeId) {
        StateKey marker = new StateKey(subject, "once:" + chargeId);
        synchronized (subjectLocks[Math.floorMod(subject.hashCode(), subjectLocks.length)]) {
            boolean counted = states.getIfPresent(marker) != null;
            long now = clockMicros.getAsLong();
            Decision d;
            if (counted) {
                d = acquireAt(subject, limit, 0, now).toCompletableFuture().join();
            } else {
                Decision[] charged = new Decision[1];
                apply(new StateKey(subject, limit.algorithm().suffix()), stored -> {
                    Outcome outcome = limit.charge(stored, units, now);
                    charged[0] = outcome.decision();
                    return outcome;
                });
                d = charged[0];
            }
            if (!counted && d.allowed()) {
                states.put(marker, new Entry("1", CHARGE_MARKER_TTL_MS));
            }
            return CompletableFuture.completedFuture(d);
        }
    }

    /** The twin of {@code plan.lua}: the three states read, decided and written under one lock per subject. */
    @Override
    public CompletionStage<PlanQuota.Result> acquirePlan(
            Subject subject, Limit limit, long cost, String dayId, String monthId, PlanQuota.Quotas quotas) {
        StateKey bucketKey = new StateKey(subject, Algorithm.TOKEN_BUCKET.suffix());
        StateKey dayKey = new StateKey(subject, "qd:" + dayId);
        StateKey monthKey = new StateKey(subject, "qm:" + monthId);
        synchronized (subjectLocks[Math.floorMod(subject.hashCode(), subjectLocks.length)]) {
            Entry bucket = states.getIfPresent(bucketKey);
            Long day = count(states.getIfPresent(dayKey));
            Long month = count(states.getIfPresent(monthKey));
            PlanQuota.Result r = PlanQuota.decide(
                    limit, bucket == null ? null : bucket.state(), day, month, quotas, cost, clockMicros.getAsLong());
            if (r.bucketWrite() != null) {
                states.put(bucketKey, new Entry(r.bucketWrite(), r.bucketTtlMs()));
            }
            if (r.daySeeded() && !r.countersWritten()) {
                states.put(dayKey, new Entry(Long.toString(r.dayUsed()), Math.max(1, quotas.dayTtlMs())));
            }
            if (r.monthSeeded() && !r.countersWritten()) {
                states.put(monthKey, new Entry(Long.toString(r.monthUsed()), Math.max(1, quotas.monthTtlMs())));
            }
            if (r.countersWritten()) {
                if (quotas.daily() > 0) {
                    states.put(dayKey, new Entry(Long.toString(r.dayUsed()), Math.max(1, quotas.dayTtlMs())));
                }
                if (quotas.monthly() > 0) {
                    states.put(monthKey, new Entry(Long.toString(r.monthUsed()), Math.max(1, quotas.monthTtlMs())));
                }
            }
            return CompletableFuture.completedFuture(r);
        }
    }

    /** The twin of {@code plan_reset.lua}, under the plan lock. */
    @Override
    public CompletionStage<long[]> resetPlan(
            Subject subject, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        long[] held = {-1, -1};
        synchronized (subjectLocks[Math.floorMod(subject.hashCode(), subjectLocks.length)]) {
            if (rate) {
                states.invalidate(new StateKey(subject, Algorithm.TOKEN_BUCKET.suffix()));
            }
            StateKey[] counters = {new StateKey(subject, "qd:" + dayId), new StateKey(subject, "qm:" + monthId)};
            boolean[] wanted = {day, month};
            for (int i = 0; i < 2; i++) {
                Long before = wanted[i] ? count(states.getIfPresent(counters[i])) : null;
                if (before != null) {
                    held[i] = before;
                    states.put(counters[i], new Entry("0", -1)); // keeps its expiry (KEEPTTL)
                }
            }
        }
        return CompletableFuture.completedFuture(held);
    }

    private static Long count(Entry e) {
        return e == null ? null : Long.valueOf(e.state());
    }

    @Override
    public CompletionStage<Void> refund(Subject subject, Limit limit, long units, Decision consumed) {
        long now = clockMicros.getAsLong();
        apply(new StateKey(subject, limit.algorithm().suffix()), stored -> limit.refund(stored, units, consumed, now));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Boolean> release(Subject subject, String token) {
        boolean[] removed = new boolean[1];
        apply(new StateKey(subject, Algorithm.CONCURRENCY.suffix()), stored -> {
            Outcome outcome = Concurrency.release(stored, token);
            removed[0] = outcome.write() != null;
            return outcome;
        });
        return CompletableFuture.completedFuture(removed[0]);
    }

    /** One atomic read-decide-write of one state, as a script is. */
    private void apply(StateKey key, java.util.function.Function<String, Outcome> step) {
        states.asMap().compute(key, (k, entry) -> {
            Outcome outcome = step.apply(entry == null ? null : entry.state());
            if (outcome.write() == null) {
                return entry;
            }
            if (outcome.write().isEmpty()) {
                return null;
            }
            return new Entry(outcome.write(), outcome.ttlMs() < 0 && entry == null ? 0 : outcome.ttlMs());
        });
    }

    @Override
    public CompletionStage<Void> reset(Subject subject) {
        for (Algorithm a : Algorithm.values()) {
            states.invalidate(new StateKey(subject, a.suffix()));
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean remote() {
        return false;
    }

    @Override
    public String kind() {
        return "in-process";
    }
}
