package dev.sluice.resilience;

import dev.sluice.config.FailureMode;
import dev.sluice.config.LocalModeProperties;
import dev.sluice.config.NodeIdentity;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.NodeClock;
import dev.sluice.core.PlanQuota;
import dev.sluice.observability.DecisionMetrics;
import dev.sluice.region.RegionMode;
import dev.sluice.store.InProcessStore;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.StoreTimeoutException;
import dev.sluice.store.Subject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a check gets while the store fails, and what is put right once it answers again: the three
 * {@code on-store-failure} modes ({@link #decide}), the local fallback's buckets, the settling of a
 * consume whose answer came after its check was decided without it ({@link #settleLate}), and the
 * "spend locally, charge the store later" machinery of the {@code local} mode ({@link
 * #chargeOwed}, the sweep after the store's return). The limiter decides; this unit only answers
 * for the store when it cannot, and keeps the books of those answers. docs/resilience.md has the
 * formulas and the measurements; ADR 0005 the reasons.
 */
@Singleton
public class FailureModes {
    private static final Logger LOG = LoggerFactory.getLogger(FailureModes.class);

    /** A failure mode's answer: the decision, the limit it was taken under, and how. */
    public record Answer(Decision decision, Limit limit, boolean unavailable, boolean local) {}

    private final RateLimitStore store;
    private final InProcessStore fallback;
    private final Membership membership;
    private final StoreHealth health;
    private final DecisionMetrics metrics;
    private final NodeClock clock;
    private final int reconcileBatch;

    /**
     * What the {@code local} mode took from this node's in-process buckets while the store was
     * unreachable, per subject, still to be charged to the store. An entry is claimed (removed) by
     * whoever charges it: the sweep that follows the store's return, or the subject's next check,
     * whichever comes first, so it is charged once.
     */
    private final ConcurrentHashMap<Subject, Owed> owed = new ConcurrentHashMap<>();
    /**
     * The reconciliation under way per subject: one at a time, and a subject's debt stays in {@link
     * #owed} until it is charged. (It used to leave {@code owed} while being charged: a local decision
     * made meanwhile opened a second debt, seeded again from the store's last answer, and the failed
     * charge's steps were dropped — usage charged twice or lost; seen as 14 units charged for 13 and
     * a subject left 7 instead of 4 in {@code LocalModeIT}.)
     */
    private final ConcurrentHashMap<Subject, CompletableFuture<Void>> reconciling = new ConcurrentHashMap<>();

    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile boolean lastSweepFailed;
    /** Subjects charged since the last "Reconciled" line, and when that line was written (ns). */
    private final java.util.concurrent.atomic.AtomicInteger chargedUnlogged =
            new java.util.concurrent.atomic.AtomicInteger();

    private volatile long reconciledLoggedAt = Long.MIN_VALUE;

    /** "Reconciled" is written at most once per this many ms; the subjects charged meanwhile go into the next line. */
    static final long RECONCILED_QUIET_MS = 10_000;

    /**
     * A subject's shared limit, the local share it was decided with during the outage, the units its
     * local bucket was seeded with (already counted by the store, so never charged again), the id
     * its charges are made under, and the units of each earlier attempt that failed — which may
     * have run in the store all the same (a time-out: Redis stalled, then ran it). A retry sends
     * each earlier attempt again under its own id (counted at most once, {@link
     * RateLimitStore#charge}) and only what was used since under a new one: sending the whole,
     * grown debt under the first id would only look if that first attempt had run, and the usage
     * since would never be charged.
     */
    private record Owed(Limit shared, Limit local, long seeded, String chargeId, List<Long> attempts) {
        Owed(Limit shared, Limit local, long seeded, String chargeId) {
            this(shared, local, seeded, chargeId, List.of());
        }

        String stepId(int step) {
            return step == 0 ? chargeId : chargeId + "+" + step;
        }

        long attempted() {
            return attempts.stream().mapToLong(Long::longValue).sum();
        }

        Owed attempting(List<Long> steps) {
            return new Owed(shared, local, seeded, chargeId, steps);
        }
    }

    /** This node's prefix of charge ids, and their sequence. */
    private final String chargePrefix;

    private final AtomicLong charges = new AtomicLong();

    /**
     * What the store last said was left for each subject of a {@code local} policy: the local mode
     * starts a subject's bucket from it instead of from full, so an outage does not hand out a fresh
     * allowance to a subject that had used it. Bounded; entries expire with the longest period.
     */
    private final com.github.benmanes.caffeine.cache.Cache<Subject, Long> lastLeft;

    /** A global policy's subject is decided on the region's share of its limit (multi-region mode). */
    private final RegionMode regions;

    public FailureModes(
            RateLimitStore store,
            Membership membership,
            StoreHealth health,
            DecisionMetrics metrics,
            LocalModeProperties local,
            NodeIdentity node,
            NodeClock clock,
            RegionMode regions) {
        this.regions = regions;
        this.store = store;
        this.fallback = new InProcessStore(clock);
        this.membership = membership;
        this.health = health;
        this.metrics = metrics;
        this.clock = clock;
        this.reconcileBatch = Math.max(1, local.getReconcileBatch());
        this.chargePrefix = node.id() + ".";
        this.lastLeft = com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                .maximumSize(100_000)
                .expireAfterWrite(Duration.ofHours(1))
                .ticker(clock::nanoTime)
                .build();
        metrics.watchOwed(owed::size);
        // a node without traffic still learns that the store is back, and charges what it owes
        membership.onHeartbeat(this::upkeep);
        health.onRecovery(this::upkeep);
    }

    /** After the store answered (a heartbeat, or a decision call after failures): put right what waits. */
    private void upkeep() {
        retryRefunds();
        sweep();
        if (store instanceof dev.sluice.store.BreakerStore breakers) {
            // a node without traffic forgets a failed-over shard's breaker too (its gauge, /health)
            breakers.forgetUnused();
        }
    }

    /**
     * A late consume's refund that failed (typically refused by the breaker, still open when Redis
     * ran the stalled commands and answered): tried again after each heartbeat the store answers,
     * up to {@link #REFUND_TRIES} times, so that a refused check is not left counted. Only for
     * {@code closed}: for {@code local} an unrefunded late consume stays counted, the conservative
     * side (when charges were capped at what the store had left, a refund after such a charge handed
     * back units the local mode admitted: seen in the chaos suite, 2 left of a limit already spent).
     * Charges now overdraw instead; the refund was not brought back for {@code local}.
     */
    private record LateRefund(Subject subject, Limit limit, long units, Decision consumed, int tries, boolean retry) {}

    /** How often a late consume's refund is tried before it is counted as {@code counted-twice}. */
    static final int REFUND_TRIES = 30;

    /** At most this many late refunds wait to be tried again; beyond, they are counted as lost. */
    static final int REFUND_BACKLOG = 100_000;

    private final java.util.concurrent.ConcurrentLinkedQueue<LateRefund> lateRefunds =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger lateRefundCount =
            new java.util.concurrent.atomic.AtomicInteger();

    private void refundLate(LateRefund r) {
        CompletionStage<Void> refunded;
        try {
            refunded = store.refund(r.subject(), r.limit(), r.units(), r.consumed());
        } catch (RuntimeException e) {
            refunded = CompletableFuture.failedFuture(e);
        }
        refunded.whenComplete((ok, e) -> {
            if (e == null) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.REFUNDED);
                givenBack.accept(r.subject());
            } else if (r.retry() && r.tries() + 1 < REFUND_TRIES && lateRefundCount.get() < REFUND_BACKLOG) {
                lateRefundCount.incrementAndGet();
                lateRefunds.add(new LateRefund(r.subject(), r.limit(), r.units(), r.consumed(), r.tries() + 1, true));
            } else {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.COUNTED_TWICE);
            }
        });
    }

    private void retryRefunds() {
        for (int n = lateRefundCount.get(); n > 0; n--) {
            LateRefund r = lateRefunds.poll();
            if (r == null) {
                break;
            }
            lateRefundCount.decrementAndGet();
            refundLate(r);
        }
    }

    /** Told of every subject a late consume's refund gave units back to in the store. */
    private volatile java.util.function.Consumer<Subject> givenBack = subject -> {};

    /**
     * Has {@code listener} told of every subject a late consume's refund gave units back to (a
     * denial kept of it may no longer hold).
     */
    public void onGivenBack(java.util.function.Consumer<Subject> listener) {
        this.givenBack = listener;
    }

    /** Subjects decided locally during an outage whose usage is not yet charged to the store. */
    public int owedSubjects() {
        return owed.size();
    }

    /**
     * Decides a check of {@code cost} units of {@code subject} under {@code limit} by {@code mode},
     * without the store: {@code open} admits, {@code closed} refuses as unavailable, {@code local}
     * decides by this node's share of the limit in its own bucket — started, on the subject's first
     * local decision of an outage, from what the store last said was left — and owes the store what
     * it took.
     */
    public CompletionStage<Answer> decide(FailureMode mode, Subject subject, Limit limit, long cost) {
        return decide(mode, subject, limit, cost, true);
    }

    /**
     * As {@link #decide(FailureMode, Subject, Limit, long)}; {@code owes} false decides a rehearsal
     * (the node's warm-up): nothing is owed to the store, so no sweep can write it there (found
     * black-box: a heartbeat's sweep between a rehearsed check and its forgetting wrote the
     * rehearsal's subjects into Redis).
     */
    public CompletionStage<Answer> decide(FailureMode mode, Subject subject, Limit limit, long cost, boolean owes) {
        long now = clock.micros();
        long burst = limit.burst();
        return switch (mode) {
            case OPEN ->
                CompletableFuture.completedFuture(
                        new Answer(new Decision(true, burst, burst, 0, 0, now), limit, false, false));
            case CLOSED ->
                CompletableFuture.completedFuture(
                        new Answer(new Decision(false, burst, 0, 0, 1000, now), limit, true, false));
            case LOCAL -> {
                // of a global policy, the region's share only: the peers keep it reserved for this region
                Limit region = regions.global(subject) ? regions.regionLimit(subject, limit) : limit;
                Limit share = membership.share(region);
                CompletionStage<Void> seeded = CompletableFuture.completedFuture(null);
                if (owes && cost > 0 && reconcilable(limit) && !owed.containsKey(subject)) {
                    // the subject's first local decision of this outage: start from what the store
                    // last said was left (scaled to the share), not from a full bucket
                    Long left = lastLeft.getIfPresent(subject);
                    long seed = left == null
                            ? 0
                            : share.burst()
                                    - Math.min(share.burst(), Math.max(0, left) * share.burst() / region.burst());
                    if (owed.putIfAbsent(
                                            subject,
                                            new Owed(limit, share, seed, chargePrefix + charges.incrementAndGet()))
                                    == null
                            && seed > 0) {
                        // and a shadow of the seed alone: what the seed still counts when the
                        // debt is charged, as the store's own usage has refilled as long
                        seeded = fallback.acquire(subject, share, seed)
                                .thenCompose(d -> fallback.acquire(seedOf(subject), share, seed))
                                .thenApply(d -> null);
                    }
                }
                yield seeded.thenCompose(x -> fallback.acquire(subject, share, cost))
                        .thenApply(decision -> new Answer(decision, share, false, true));
            }
        };
    }

    /**
     * What the store said of a subject of a policy of {@code mode}: kept for the {@code local} mode,
     * which starts the subject's next outage from it.
     */
    public void remember(FailureMode mode, Subject subject, Limit limit, Decision decided) {
        if (mode == FailureMode.LOCAL && reconcilable(limit)) {
            lastLeft.put(subject, decided.remaining());
        }
    }

    /**
     * Charges the store with what {@code subject} owes from an outage, before its next store check;
     * null when it owes nothing (the common case, and no stage to compose then).
     */
    public CompletionStage<Void> chargeOwed(Subject subject) {
        return owed.isEmpty() || !owed.containsKey(subject) ? null : reconcileOnce(subject);
    }

    /**
     * Charges the subject's debt unless a charge of it is under way already, in which case that one
     * is awaited; the debt leaves {@link #owed} only once it is charged.
     */
    private CompletableFuture<Void> reconcileOnce(Subject subject) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = reconciling.putIfAbsent(subject, mine);
        if (running != null) {
            return running;
        }
        Owed debt = owed.get(subject);
        CompletionStage<Void> charged =
                debt == null ? CompletableFuture.completedFuture(null) : reconcile(subject, debt);
        charged.whenComplete((ok, error) -> {
            reconciling.remove(subject, mine);
            if (error != null) {
                mine.completeExceptionally(error);
            } else {
                mine.complete(null);
            }
        });
        return mine;
    }

    /** Gives back units a local answer took. */
    public CompletionStage<Void> refundLocal(Subject subject, Limit limit, long units, Decision consumed) {
        return fallback.refund(subject, limit, units, consumed);
    }

    /** Releases a lease taken by a local answer; completes with whether it was held here. */
    public CompletionStage<Boolean> releaseLocal(Subject subject, String token) {
        return fallback.release(subject, token);
    }

    /**
     * The in-process subject that holds the seed of {@code subject}'s local bucket alone (a policy
     * name cannot hold NUL, so it is no policy's subject).
     */
    private static Subject seedOf(Subject subject) {
        return new Subject(subject.policy() + "\u0000seed", subject.key());
    }

    /** Forgets the subject's local state and debt: it was reset. */
    public void forget(Subject subject) {
        fallback.reset(seedOf(subject));
        fallback.reset(subject);
        owed.remove(subject);
    }

    /**
     * A consume given up on ({@link StoreTimeoutException}) may still run in the store. When its
     * answer comes, it is settled so that the check is counted once: kept when the check was admitted
     * by {@code open} (the store counted what was admitted), given back when it was refused ({@code
     * closed}) or counted in the local bucket ({@code local}, charged to the store later). A plan
     * check has no refund verb: such a late admission stays counted, and is counted as such.
     */
    public void settleLate(Throwable error, FailureMode mode, Subject subject, Limit limit, long cost) {
        StoreTimeoutException late = lateCall(error);
        if (late == null || cost <= 0) {
            return;
        }
        late.late().whenComplete((value, failed) -> {
            Decision d = value instanceof Decision decision
                    ? decision
                    : value instanceof PlanQuota.Result r ? r.bucket() : null;
            if (failed != null) {
                // no answer: the command may have run all the same (seen: Redis stopped for 2 s ran
                // the consumes written before the stop after Lettuce's 1.5 s timeout had failed them)
                metrics.lateAnswer(DecisionMetrics.LateAnswer.UNKNOWN);
            } else if (d == null || !d.allowed()) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.NOTHING_TAKEN);
            } else if (mode == FailureMode.OPEN) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.KEPT);
            } else if (value instanceof PlanQuota.Result) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.COUNTED_TWICE);
            } else {
                refundLate(new LateRefund(subject, limit, cost, d, 0, mode == FailureMode.CLOSED));
            }
        });
    }

    private static StoreTimeoutException lateCall(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof StoreTimeoutException late) {
                return late;
            }
        }
        return null;
    }

    /** Leases are not carried over: one taken locally is released locally or expires by itself. */
    private static boolean reconcilable(Limit limit) {
        return limit.algorithm() != Algorithm.CONCURRENCY;
    }

    /**
     * Charges the store with what this node's in-process bucket of {@code subject} still counts as
     * used (its share minus what is left now, so usage that has since refilled or left its window
     * is not charged), then forgets the local bucket. When the store has less left than that, it is
     * charged all the same, into an overdraft of up to one burst that the subject's next checks wait
     * out: the subject ends the outage owing, never with a fresh bucket, and no node's usage is lost
     * when another one spent the store's refill first.
     * On failure the debt is kept for the next attempt, under the same charge id, so a charge that
     * timed out here but ran in the store is not counted again.
     */
    private CompletionStage<Void> reconcile(Subject subject, Owed debt) {
        List<Long> steps = new ArrayList<>(debt.attempts());
        return fallback.acquire(seedOf(subject), debt.local(), 0)
                .thenCompose(seedLook -> fallback.acquire(subject, debt.local(), 0)
                        .thenApply(look -> seedLook.remaining() - look.remaining()))
                .thenCompose(stillUsed -> {
                    // what the local bucket still counts beyond what its seed still counts: the seed
                    // (the store's usage before the outage) refills in the local bucket as it does in
                    // the store, so subtracting the seed whole left the store with its refill and
                    // the local bucket's both (measured: a master killed for 5.5 s under 12 clients,
                    // keys on its shard admitted 118 of a bound of 96)
                    long used = Math.min(debt.shared().burst(), stillUsed);
                    long since = used - debt.attempted();
                    if (since > 0) {
                        steps.add(since);
                    }
                    if (steps.isEmpty() && !health.answers()) {
                        // nothing to charge, but the outage goes on: the local bucket, seeded from what
                        // the store last said, keeps refilling. Forgotten here, the next decision
                        // seeded it again from that stale figure (found black-box: a subject at its
                        // limit when Redis died was admitted nothing for the whole outage)
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    if (steps.isEmpty()) {
                        fallback.reset(seedOf(subject));
                        fallback.reset(subject);
                        owed.remove(subject, debt);
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    // every step counted once even when a time-out has it retried after it did run
                    CompletionStage<Decision> charged = CompletableFuture.completedFuture(null);
                    for (int i = 0; i < steps.size(); i++) {
                        int step = i;
                        charged = charged.thenCompose(x -> chargeStep(subject, debt, step, steps.get(step)));
                    }
                    long total = steps.stream().mapToLong(Long::longValue).sum();
                    return charged.thenAccept(d -> {
                        owed.remove(subject, debt);
                        fallback.reset(subject);
                        fallback.reset(seedOf(subject));
                        // what is left after the charge: the seed of the next local episode
                        lastLeft.put(subject, d.remaining());
                        metrics.reconciled(true, total);
                        chargedUnlogged.incrementAndGet();
                    });
                })
                .whenComplete((ok, error) -> {
                    if (error != null) {
                        owed.replace(subject, debt, debt.attempting(List.copyOf(steps)));
                        metrics.reconciled(false, 0);
                    }
                });
    }

    /**
     * One step of a debt, taken whole even when the store has less left (an overdraft the subject's
     * next checks wait out, up to one burst: {@link RateLimitStore#charge}). It used to be charged
     * only what was left: when another node decided by the store again first and spent the refill
     * of the outage, this node's usage was lost (a killed Cluster master, 3 nodes, keys on its
     * shard admitted 106 of a bound of 104).
     */
    private CompletionStage<Decision> chargeStep(Subject subject, Owed debt, int step, long units) {
        return store.charge(subject, debt.shared(), units, debt.stepId(step));
    }

    /** How long a stopping node spends charging what it owes ({@link #stop}). */
    static final Duration STOP_CHARGE_WAIT = Duration.ofSeconds(2);

    /**
     * A stopping node (SIGTERM, a function runtime ending the instance) charges the local usage it
     * still owes the store, waiting at most {@link #STOP_CHARGE_WAIT}, so that what it admitted
     * alone during an outage is not forgotten with it; what cannot be charged (the store still
     * down) is logged with its count, never dropped silently.
     */
    @jakarta.annotation.PreDestroy
    void stop() {
        if (owed.isEmpty()) {
            return;
        }
        int before = owed.size();
        if (health.answers()) {
            List<CompletableFuture<Void>> charging = new ArrayList<>();
            for (Subject s : owed.keySet()) {
                charging.add(reconcileOnce(s));
            }
            try {
                CompletableFuture.allOf(charging.toArray(CompletableFuture[]::new))
                        .get(STOP_CHARGE_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // counted below
            }
        }
        if (owed.isEmpty()) {
            LOG.info("Charged the local usage of {} subject(s) to the store before stopping", before);
        } else {
            LOG.warn(
                    "Stopping with the local usage of {} subject(s) not charged to the store (it did not answer"
                            + " within {} ms): those subjects may be admitted up to that usage again",
                    owed.size(),
                    STOP_CHARGE_WAIT.toMillis());
        }
    }

    /** Charges every owed subject, a batch at a time, after the store answers again. */
    void sweep() {
        if (owed.isEmpty() || !sweeping.compareAndSet(false, true)) {
            return;
        }
        long start = clock.nanoTime();
        sweepBatch(start);
    }

    private void sweepBatch(long start) {
        List<CompletableFuture<Void>> batch = new ArrayList<>(reconcileBatch);
        for (Subject s : owed.keySet()) {
            if (batch.size() == reconcileBatch) {
                break;
            }
            batch.add(reconcileOnce(s));
        }
        CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).whenComplete((ok, error) -> {
            if (error == null && !batch.isEmpty() && !owed.isEmpty() && health.answers()) {
                sweepBatch(start);
                return;
            }
            sweeping.set(false);
            boolean failedBefore = lastSweepFailed;
            lastSweepFailed = error != null;
            long now = clock.nanoTime();
            if (error == null) {
                // one line per episode: a shard that stays failed has its subjects' debts swept at
                // every heartbeat, and each sweep that charged some would have written a line
                // (found black-box: one a second while a master was dead)
                if (chargedUnlogged.get() > 0
                        && (reconciledLoggedAt == Long.MIN_VALUE
                                || now - reconciledLoggedAt >= RECONCILED_QUIET_MS * 1_000_000)) {
                    reconciledLoggedAt = now;
                    LOG.info(
                            "Reconciled the local usage of {} subject(s) into the store (the last sweep took {} ms)",
                            chargedUnlogged.getAndSet(0),
                            (now - start) / 1_000_000);
                }
            } else if (!failedBefore) {
                LOG.warn(
                        "Reconciling local usage into the store stopped ({}); {} subject(s) still owed, retried"
                                + " when the store answers again",
                        error.toString(),
                        owed.size());
            }
        });
    }
}
