package dev.sluice.limiter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.NodeClock;
import dev.sluice.store.Subject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Subjects this node knows to be over their limit, until their retry time: a key hammering past its
 * limit is answered here, without a Redis call (envoyproxy/ratelimit's local cache of over-limit
 * keys is the anchor).
 *
 * <p>Exact, not approximate: only a denial of a cost-1 check with nothing left is kept, and it
 * answers only cost-1 checks of the same subject under the same shape — the {@link Limit}, or for
 * a check by API key the plan's rate, quotas, day and month (a policy or override change makes a
 * new shape, which misses) — until {@link #MARGIN_MICROS} before the retry time the store gave.
 * (A plan check denied by a quota with its bucket full is kept too: nothing it reports changes
 * until the retry time either.)
 * Until then no check of cost 1 can pass in the store either — a denied check consumes nothing and
 * a subject with nothing left stays so until the retry time — unless the subject is reset or given
 * units back, and both invalidate ({@link #invalidate}: on this node at once, on the others by the
 * store's broadcast). The answer is the store's denial moved forward in time: {@code remaining} 0,
 * reset and retry shortened by the time elapsed, the clock advanced by it. Concurrency leases are
 * never kept (a release frees a slot at any time), nor are a global policy's denials (multi-region
 * mode): its region's demand must count every check, and a share that grows admits before the
 * retry time.
 *
 * <p>A denial that arrives after an invalidation its call started before is not kept ({@link
 * #epoch}): the store may have answered from the state before the reset.
 *
 * <p>No denial is kept longer than {@code maxKeep} after its store call, whatever its retry time:
 * an invalidation lost on its way (a shard failing over while it was published, a subscription
 * down) leaves a wrong denial on this node for at most that long, and a subject hammered past its
 * limit costs one store call per {@code maxKeep} per node. When this node may have missed
 * invalidations ({@link #forgetAll}: its subscription came back) it forgets everything it keeps.
 */
final class OverLimitCache {
    /** A kept denial stops answering this long before its retry time, against clock rounding. */
    static final long MARGIN_MICROS = 1_000;

    private record Entry(Object shape, Decision denial, Object extra, long atNanos) {}

    /** A kept denial moved to now, and what its caller kept beside it. */
    record Kept(Decision decision, Object extra) {}

    private final Cache<Subject, Entry> entries;
    private final AtomicLong invalidations = new AtomicLong();

    private final NodeClock clock;
    private final long maxKeepMicros;

    OverLimitCache(long maximumSize, Duration maxKeep, NodeClock clock) {
        this.clock = clock;
        this.maxKeepMicros = maxKeep.toNanos() / 1000;
        this.entries = Caffeine.newBuilder()
                .maximumSize(maximumSize)
                .ticker(clock::nanoTime)
                .expireAfter(new Expiry<Subject, Entry>() {
                    @Override
                    public long expireAfterCreate(Subject key, Entry e, long currentTime) {
                        return keptMicros(e.denial()) * 1000;
                    }

                    @Override
                    public long expireAfterUpdate(Subject key, Entry e, long currentTime, long currentDuration) {
                        return expireAfterCreate(key, e, currentTime);
                    }

                    @Override
                    public long expireAfterRead(Subject key, Entry e, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    /** How long {@code denial} is kept, counted from its store call. */
    private long keptMicros(Decision denial) {
        return Math.min(maxKeepMicros, Math.max(0, denial.retryAfterMs() * 1000 - MARGIN_MICROS));
    }

    /** The count of invalidations so far: a call reads it when it starts, {@link #keep} compares. */
    long epoch() {
        return invalidations.get();
    }

    /** The kept denial of a cost-{@code cost} check of {@code subject} under {@code limit}, moved to now; or null. */
    Decision answer(Subject subject, Limit limit, long cost) {
        Kept k = answerWith(subject, limit, cost);
        return k == null ? null : k.decision();
    }

    /** The kept denial of a cost-{@code cost} check of {@code subject} under {@code shape}, moved to now; or null. */
    Kept answerWith(Subject subject, Object shape, long cost) {
        if (cost != 1) {
            return null;
        }
        Entry e = entries.getIfPresent(subject);
        if (e == null || !e.shape().equals(shape)) {
            return null;
        }
        long elapsedMicros = (clock.nanoTime() - e.atNanos()) / 1000;
        Decision d = e.denial();
        if (elapsedMicros >= keptMicros(d)) {
            entries.asMap().remove(subject, e);
            return null;
        }
        // the same instants as the store's answer, seen from now: counted from the store's reading in
        // whole milliseconds, as the headers are (X-RateLimit-Reset = now + reset), so that a window's
        // end on a second boundary is not pushed into the next second by the rounding of either part
        long nowMicros = d.nowMicros() + elapsedMicros;
        long nowMs = Math.floorDiv(nowMicros, 1000L);
        return new Kept(
                new Decision(
                        false,
                        d.limit(),
                        d.remaining(),
                        Math.max(0, d.nowMs() + d.resetMs() - nowMs),
                        Math.max(1, d.nowMs() + d.retryAfterMs() - nowMs),
                        nowMicros),
                e.extra());
    }

    /**
     * Keeps the store's {@code denial} of a cost-{@code cost} check, if it is of the kind that stays
     * true until its retry time and no invalidation happened since the call began ({@code epoch}).
     * Its times count from {@code startNanos}, when the call was made: the store decided at or after
     * it, so the kept retry time is never later than the store's.
     */
    void keep(Subject subject, Limit limit, long cost, Decision denial, long epoch, long startNanos) {
        if (limit.algorithm() != Algorithm.CONCURRENCY) { // a release frees a slot at any time
            keep(subject, limit, cost, denial, null, epoch, startNanos);
        }
    }

    /**
     * As {@link #keep(Subject, Limit, long, Decision, long, long)} under any {@code shape}, with
     * {@code extra} handed back with every answer. What a denial reports must stay the same until
     * its retry time: nothing left, or (a plan's quota) a bucket that is full.
     */
    void keep(Subject subject, Object shape, long cost, Decision denial, Object extra, long epoch, long startNanos) {
        if (cost != 1
                || denial.allowed()
                || (denial.remaining() != 0 && denial.resetMs() != 0)
                || denial.retryAfterMs() * 1000 <= 2 * MARGIN_MICROS) {
            return;
        }
        if (invalidations.get() != epoch) {
            return;
        }
        entries.put(subject, new Entry(shape, denial, extra, startNanos));
        if (invalidations.get() != epoch) {
            entries.invalidate(subject); // an invalidation raced the put
        }
    }

    /** Forgets what is kept of {@code subject} (reset, refund). */
    void invalidate(Subject subject) {
        invalidations.incrementAndGet();
        entries.invalidate(subject);
    }

    /** Forgets every kept denial: this node may have missed invalidations. */
    void forgetAll() {
        invalidations.incrementAndGet();
        entries.invalidateAll();
    }

    /** Subjects kept now (approximately). */
    long size() {
        return entries.estimatedSize();
    }
}
