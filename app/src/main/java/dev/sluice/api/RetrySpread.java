package dev.sluice.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.limiter.Verdict;
import dev.sluice.resilience.Membership;
import dev.sluice.store.Subject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code Retry-After} of a denial: when callers wait on one subject, each is told a different
 * time, spread over the time in which the subject can serve them, so that they do not all return
 * in the same second and are refused again (a 10 % jitter of one second rounds to nothing: 20
 * clients honouring it on a limit of 10 per 10 s met 13.4 refusals per admission).
 *
 * <p>Each subject has a virtual queue of return times. A denied caller is given the first free
 * one: not before the subject has its cost again (the decision's own retry time, as the body's
 * {@code retryAfterSeconds} says), and one <em>spacing</em> after the caller given the previous
 * time — the time the limit takes to refill that cost ({@code period × cost / limit}), times the
 * number of service nodes sharing the store (each node spaces its own callers; together they
 * interleave). A caller alone is told exactly what it needs. No caller is told more than the
 * retry time plus one period, and never more than a minute beyond it: past that many waiters the
 * subject could not serve them all in a period anyway, and a client that ignores {@code
 * Retry-After} (every denial it provokes takes a place in the queue) cannot push honest callers
 * back by more than that.
 *
 * <p>Concurrency limits are spread by the 10 % jitter only: a lease comes back when its holder
 * releases it, not at a rate. Unavailable answers (503) likewise. The queue is kept per node in a
 * bounded cache (100,000 subjects), forgotten a period after its last denial.
 */
@Singleton
public final class RetrySpread {
    private static final int MAX_SUBJECTS = 100_000;

    /** The most a caller is told beyond the decision's retry time: one period, at most a minute. */
    static final long MAX_SPREAD_MS = 60_000;

    private final Cache<Subject, AtomicLong> next = Caffeine.newBuilder()
            .maximumSize(MAX_SUBJECTS)
            .expireAfterAccess(Duration.ofMinutes(10))
            .build();
    private final java.util.function.IntSupplier nodes;

    @jakarta.inject.Inject
    public RetrySpread(Membership membership) {
        this(membership::nodes);
    }

    /** @param nodes how many service nodes share the store (each spaces its own callers) */
    RetrySpread(java.util.function.IntSupplier nodes) {
        this.nodes = nodes;
    }

    /** The {@code Retry-After} seconds of {@code v}'s answer (not allowed): at least the decision's retry time. */
    public long seconds(Verdict v) {
        Decision d = v.decision();
        long min = d.retryAfterSeconds();
        Limit limit = v.limit();
        if (d.allowed()
                || v.unavailable()
                || v.subject() == null
                || limit == null
                || limit.algorithm() == Algorithm.CONCURRENCY
                || limit.limit() <= 0
                || limit.periodMs() <= 0) {
            return min + jitter(min);
        }
        long cost = Math.max(1, v.cost());
        long spacing =
                Math.max(1, Math.ceilDiv(limit.periodMs() * cost, limit.limit()) * Math.max(1, nodes.getAsInt()));
        long now = d.nowMicros() / 1000;
        long earliest = now + d.retryAfterMs();
        long latest = earliest + Math.min(limit.periodMs(), MAX_SPREAD_MS);
        AtomicLong queue = next.get(v.subject(), s -> new AtomicLong());
        long slot;
        while (true) {
            long free = queue.get();
            slot = Math.min(Math.max(earliest, free), latest);
            if (queue.compareAndSet(free, Math.max(free, slot + spacing))) {
                break;
            }
        }
        return Math.max(min, Math.ceilDiv(slot - now, 1000L));
    }

    /** Up to 10 % of {@code seconds}, whole seconds, uniformly. */
    static long jitter(long seconds) {
        return ThreadLocalRandom.current().nextLong(seconds / 10 + 1);
    }
}
