package dev.sluice.limiter;

import dev.sluice.config.FailureMode;
import dev.sluice.config.LocalModeProperties;
import dev.sluice.config.OverLimitCacheProperties;
import dev.sluice.config.Policy;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.PlanQuota;
import dev.sluice.observability.DecisionMetrics;
import dev.sluice.store.InProcessStore;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.ResetBroadcast;
import dev.sluice.store.StoreTimeoutException;
import dev.sluice.store.Subject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes decisions: asks the store, and when the store fails applies the policy's {@code
 * on-store-failure} mode. Records every decision and store round trip. The store's failure and
 * recovery are logged once per change, never once per request.
 *
 * <p>Several checks in one request ({@link #checkAll}) are all-or-nothing by consume-then-refund:
 * every check runs at once, each atomic on its own shard; when any is denied, each admitted one is
 * given back with its algorithm's refund (docs/adr/0004-multi-limit-checks.md).
 *
 * <p>A policy that reserves shares for tiers ({@code reserve}) keeps a reserve per named tier and a
 * pool for the rest: a check of a reserved tier draws on its reserve and, when that is spent, on the
 * pool; every other check draws on the pool only. The reserves and the pool add up to the policy's
 * limit, so the whole stays within it however the tiers behave.
 */
@Singleton
public class Limiter {
    /** The name of a plan's rate policy; its subject is {@code (rate, account)}. */
    public static final String PLAN_RATE = "rate";

    private static final Logger LOG = LoggerFactory.getLogger(Limiter.class);

    private final RateLimitStore store;
    private final InProcessStore fallback = new InProcessStore();
    private final DecisionMetrics metrics;
    private final DecisionMetrics.StoreMeters storeMeters;
    private final AtomicBoolean storeHealthy = new AtomicBoolean(true);
    private final Membership membership;
    private final int reconcileBatch;

    /**
     * What the {@code local} mode took from this node's in-process buckets while the store was
     * unreachable, per subject, still to be charged to the store. An entry is claimed (removed) by
     * whoever charges it: the sweep that follows the store's return, or the subject's next check,
     * whichever comes first, so it is charged once.
     */
    private final ConcurrentHashMap<Subject, Owed> owed = new ConcurrentHashMap<>();

    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile boolean lastSweepFailed;

    /**
     * A subject's shared limit, the local share it was decided with during the outage, the units its
     * local bucket was seeded with (already counted by the store, so never charged again), and the
     * id its charge is made under: a retry after a time-out whose first attempt did run in the store
     * is not counted twice ({@link RateLimitStore#charge}).
     */
    private record Owed(Limit shared, Limit local, long seeded, String chargeId) {}

    /** This node's prefix of charge ids, and their sequence. */
    private final String chargePrefix = Long.toString(new java.security.SecureRandom().nextLong() >>> 1, 36) + ".";

    private final java.util.concurrent.atomic.AtomicLong charges = new java.util.concurrent.atomic.AtomicLong();

    /**
     * What the store last said was left for each subject of a {@code local} policy: the local mode
     * starts a subject's bucket from it instead of from full, so an outage does not hand out a fresh
     * allowance to a subject that had used it. Bounded; entries expire with the longest period.
     */
    private final com.github.benmanes.caffeine.cache.Cache<Subject, Long> lastLeft =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                    .maximumSize(100_000)
                    .expireAfterWrite(java.time.Duration.ofHours(1))
                    .build();

    /** Subjects known to be over their limit, answered without a store call; null when off. */
    private final OverLimitCache overLimit;

    private final ResetBroadcast resets;

    public Limiter(
            RateLimitStore store,
            DecisionMetrics metrics,
            Membership membership,
            LocalModeProperties local,
            OverLimitCacheProperties cache,
            Optional<ResetBroadcast> resets) {
        this.overLimit = cache.isEnabled() ? new OverLimitCache(cache.getSize()) : null;
        this.resets = resets.orElse(ResetBroadcast.NONE);
        if (overLimit != null) {
            this.resets.listen(overLimit::invalidate);
            metrics.watchOverLimit(overLimit::size);
        }
        this.store = store;
        this.metrics = metrics;
        this.storeMeters = metrics.forStore(store.kind());
        this.membership = membership;
        this.reconcileBatch = Math.max(1, local.getReconcileBatch());
        metrics.watchOwed(owed::size);
        // a node without traffic still learns that the store is back, and charges what it owes
        membership.onHeartbeat(this::sweep);
    }

    /** Whether the last store call succeeded (false: checks are decided by their failure modes). */
    public boolean storeAnswers() {
        return storeHealthy.get();
    }

    /** Subjects decided locally during an outage whose usage is not yet charged to the store. */
    public int owedSubjects() {
        return owed.size();
    }

    /** Consumes {@code cost} units (0: look only) of {@code key}'s allowance under {@code policy}. */
    public CompletionStage<Verdict> check(Policy policy, String key, long cost) {
        return check(new Check(policy, key, cost, null));
    }

    /** Decides one check. */
    public CompletionStage<Verdict> check(Check check) {
        Policy policy = check.policy();
        if (!policy.reserving()) {
            return decide(check, new Subject(policy.name(), check.key()), policy.limitFor(check.tier()));
        }
        Subject pool = new Subject(policy.name() + "/pool", check.key());
        Limit reserve = check.tier() == null ? null : policy.reserves().get(check.tier());
        if (reserve == null) {
            return decide(check, pool, policy.pool());
        }
        Subject reserved = new Subject(policy.name() + "/reserve/" + check.tier(), check.key());
        return decide(check, reserved, reserve)
                .thenCompose(v -> v.decision().allowed() || v.unavailable()
                        ? CompletableFuture.completedFuture(v)
                        : decide(check, pool, policy.pool()));
    }

    /**
     * Decides every check of one request: admitted only if all are; when any is denied (or the store
     * is unavailable to a fail-closed policy), what the others took is given back before the
     * answer, and those verdicts are marked refunded.
     */
    public CompletionStage<List<Verdict>> checkAll(List<Check> checks) {
        List<CompletableFuture<Verdict>> running = new ArrayList<>(checks.size());
        for (Check c : checks) {
            running.add(check(c).toCompletableFuture());
        }
        return CompletableFuture.allOf(running.toArray(CompletableFuture[]::new))
                .thenCompose(done -> {
                    List<Verdict> verdicts = new ArrayList<>(running.size());
                    boolean pass = true;
                    for (CompletableFuture<Verdict> f : running) {
                        Verdict v = f.join();
                        verdicts.add(v);
                        pass &= v.decision().allowed() && !v.unavailable();
                    }
                    if (pass) {
                        return CompletableFuture.completedFuture(verdicts);
                    }
                    List<CompletableFuture<Verdict>> settled = new ArrayList<>(verdicts.size());
                    for (Verdict v : verdicts) {
                        settled.add(
                                v.consumed() ? refund(v).toCompletableFuture() : CompletableFuture.completedFuture(v));
                    }
                    return CompletableFuture.allOf(settled.toArray(CompletableFuture[]::new))
                            .thenApply(all -> settled.stream()
                                    .map(CompletableFuture::join)
                                    .toList());
                });
    }

    /** Gives back what {@code v} took; on failure the units stay taken (logged and counted), never lost silently. */
    private CompletionStage<Verdict> refund(Verdict v) {
        if (overLimit != null) {
            overLimit.invalidate(v.subject()); // units given back: a denial kept of it may no longer hold
        }
        RateLimitStore target = v.source() == Verdict.Source.FALLBACK ? fallback : store;
        CompletionStage<Void> refunded;
        try {
            refunded = target.refund(v.subject(), v.limit(), v.cost(), v.decision());
        } catch (RuntimeException e) {
            refunded = CompletableFuture.failedFuture(e);
        }
        return refunded.handle((ok, error) -> {
            metrics.refund(error == null);
            if (error != null) {
                LOG.warn(
                        "Refund of {} unit(s) of {} under policy {} failed; they stay consumed until the state"
                                + " expires: {}",
                        v.cost(),
                        v.subject().key(),
                        v.subject().policy(),
                        error.toString());
                return v;
            }
            return v.asRefunded();
        });
    }

    /**
     * Decides a check by API key: the plan's rate and its quotas in one atomic step ({@code
     * plan.lua}); verdicts for the rate and each quota, so that headers and a 429 name every policy.
     * While the store fails, the plan's failure mode decides the rate only: quotas are not counted
     * then (docs/admin-api.md).
     */
    public CompletionStage<List<Verdict>> checkPlan(PlanCheck c) {
        Subject subject = new Subject(c.rate().name(), c.account());
        Limit limit = c.rate().limit();
        DecisionMetrics.PolicyMeters meters = metrics.forPolicy(c.rate().name());
        long start = System.nanoTime();
        CompletionStage<PlanQuota.Result> decided;
        try {
            decided = store.acquirePlan(subject, limit, c.cost(), c.dayId(), c.monthId(), c.quotas());
        } catch (RuntimeException e) {
            decided = CompletableFuture.failedFuture(e);
        }
        return decided.thenApply(r -> {
                    storeMeters.record(true, System.nanoTime() - start);
                    markStore(true, null);
                    meters.decision(r.bucket().allowed(), false, false);
                    return planVerdicts(c, subject, r);
                })
                .exceptionallyCompose(error -> {
                    storeMeters.record(false, System.nanoTime() - start);
                    markStore(false, error);
                    settleLate(error, c.rate(), subject, limit, c.cost());
                    Check rateOnly = new Check(c.rate(), c.account(), c.cost(), null);
                    return degrade(rateOnly, subject, limit).thenApply(v -> {
                        meters.decision(v.decision().allowed(), v.unavailable(), true);
                        return List.of(v);
                    });
                });
    }

    private static List<Verdict> planVerdicts(PlanCheck c, Subject subject, PlanQuota.Result r) {
        boolean allowed = r.bucket().allowed();
        PlanQuota.Violation why = r.violated();
        Decision b = r.bucket();
        List<Verdict> verdicts = new ArrayList<>(3);
        Decision rate = why == PlanQuota.Violation.RATE || allowed
                ? b
                : new Decision(true, b.limit(), b.remaining(), b.resetMs(), 0, b.nowMicros());
        verdicts.add(new Verdict(
                c.rate(),
                c.account(),
                null,
                c.cost(),
                rate,
                false,
                false,
                subject,
                c.rate().limit(),
                Verdict.Source.STORE,
                !allowed && rate.allowed()));
        if (c.daily() != null) {
            verdicts.add(quotaVerdict(
                    c,
                    c.daily(),
                    subject,
                    c.quotas().daily(),
                    r.dayUsed(),
                    c.quotas().dayTtlMs(),
                    why == PlanQuota.Violation.DAILY,
                    allowed,
                    b.nowMicros()));
        }
        if (c.monthly() != null) {
            verdicts.add(quotaVerdict(
                    c,
                    c.monthly(),
                    subject,
                    c.quotas().monthly(),
                    r.monthUsed(),
                    c.quotas().monthTtlMs(),
                    why == PlanQuota.Violation.MONTHLY,
                    allowed,
                    b.nowMicros()));
        }
        return verdicts;
    }

    private static Verdict quotaVerdict(
            PlanCheck c,
            Policy policy,
            Subject subject,
            long quota,
            long used,
            long ttlMs,
            boolean violated,
            boolean allowed,
            long nowMicros) {
        Decision d = new Decision(!violated, quota, Math.max(0, quota - used), ttlMs, violated ? ttlMs : 0, nowMicros);
        return new Verdict(
                policy,
                c.account(),
                null,
                c.cost(),
                d,
                false,
                false,
                subject,
                policy.limit(),
                Verdict.Source.STORE,
                !allowed && !violated);
    }

    /** Releases a {@code concurrency} lease; completes with whether it was held. */
    public CompletionStage<Boolean> release(Subject subject, String token) {
        CompletionStage<Boolean> local = fallback.release(subject, token);
        return store.release(subject, token).thenCombine(local, (shared, here) -> shared || here);
    }

    /**
     * Resets an account's plan state (the admin API): its rate bucket, and its counters of day
     * {@code dayId} and month {@code monthId}; see {@link RateLimitStore#resetPlan}. The rate's
     * local state (the failure mode's) is forgotten too.
     */
    public CompletionStage<long[]> resetPlan(
            String account, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        Subject subject = new Subject(PLAN_RATE, account);
        if (rate) {
            fallback.reset(subject);
            owed.remove(subject);
        }
        return store.resetPlan(subject, dayId, monthId, rate, day, month);
    }

    /** Restores the subject's full allowance in the store (and in the fallback). */
    public CompletionStage<Void> reset(Policy policy, String key) {
        List<Subject> subjects = new ArrayList<>();
        subjects.add(new Subject(policy.name(), key));
        if (policy.reserving()) {
            subjects.add(new Subject(policy.name() + "/pool", key));
            policy.reserves().keySet().forEach(t -> subjects.add(new Subject(policy.name() + "/reserve/" + t, key)));
        }
        CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
        for (Subject s : subjects) {
            fallback.reset(s);
            owed.remove(s);
            all = all.thenCompose(x -> store.reset(s)).thenRun(() -> forgetDenial(s));
        }
        return all;
    }

    private CompletionStage<Verdict> decide(Check check, Subject subject, Limit limit) {
        Policy policy = check.policy();
        DecisionMetrics.PolicyMeters meters = metrics.forPolicy(policy.name());
        long epoch = 0;
        if (overLimit != null) {
            Decision kept = overLimit.answer(subject, limit, check.cost());
            if (kept != null) {
                meters.decision(false, false, false);
                metrics.overLimitHit();
                return CompletableFuture.completedFuture(
                        verdict(check, subject, limit, kept, false, false, Verdict.Source.STORE));
            }
            epoch = overLimit.epoch();
        }
        long start = System.nanoTime();
        long epochAtStart = epoch;
        CompletionStage<Decision> decided;
        try {
            Owed debt = owed.isEmpty() ? null : owed.remove(subject);
            decided = debt == null
                    ? acquire(policy, subject, limit, check.cost())
                    : reconcile(subject, debt).thenCompose(x -> acquire(policy, subject, limit, check.cost()));
        } catch (RuntimeException e) {
            decided = CompletableFuture.failedFuture(e);
        }
        return decided.thenApply(decision -> {
                    storeMeters.record(true, System.nanoTime() - start);
                    markStore(true, null);
                    meters.decision(decision.allowed(), false, false);
                    if (policy.onStoreFailure() == dev.sluice.config.FailureMode.LOCAL && reconcilable(limit)) {
                        lastLeft.put(subject, decision.remaining());
                    }
                    if (overLimit != null && !decision.allowed()) {
                        overLimit.keep(subject, limit, check.cost(), decision, epochAtStart, start);
                    }
                    return verdict(check, subject, limit, decision, false, false, Verdict.Source.STORE);
                })
                .exceptionallyCompose(error -> {
                    storeMeters.record(false, System.nanoTime() - start);
                    markStore(false, error);
                    return degrade(check, subject, limit).thenApply(verdict -> {
                        meters.decision(verdict.decision().allowed(), verdict.unavailable(), true);
                        return verdict;
                    });
                });
    }

    /** After a reset in the store: the subject's kept denial is forgotten here and on every other node. */
    private void forgetDenial(Subject s) {
        if (overLimit != null) {
            overLimit.invalidate(s);
        }
        resets.announce(s);
    }

    /** The store's consume, settled if it is given up on and answers later ({@link #settleLate}). */
    private CompletionStage<Decision> acquire(Policy policy, Subject subject, Limit limit, long cost) {
        CompletionStage<Decision> call;
        try {
            call = store.acquire(subject, limit, cost);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return call.whenComplete((d, error) -> {
            if (error != null) {
                settleLate(error, policy, subject, limit, cost);
            }
        });
    }

    /**
     * A consume given up on ({@link StoreTimeoutException}) may still run in the store. When its
     * answer comes, it is settled so that the check is counted once: kept when the check was admitted
     * by {@code open} (the store counted what was admitted), given back when it was refused ({@code
     * closed}) or counted in the local bucket ({@code local}, charged to the store later). A plan
     * check has no refund verb: such a late admission stays counted, and is counted as such.
     */
    private void settleLate(Throwable error, Policy policy, Subject subject, Limit limit, long cost) {
        StoreTimeoutException late = lateCall(error);
        if (late == null || cost <= 0) {
            return;
        }
        late.late().whenComplete((value, failed) -> {
            Decision d = value instanceof Decision decision
                    ? decision
                    : value instanceof PlanQuota.Result r ? r.bucket() : null;
            if (failed != null || d == null || !d.allowed()) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.NOTHING_TAKEN);
            } else if (policy.onStoreFailure() == FailureMode.OPEN) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.KEPT);
            } else if (value instanceof PlanQuota.Result) {
                metrics.lateAnswer(DecisionMetrics.LateAnswer.COUNTED_TWICE);
            } else {
                store.refund(subject, limit, cost, d)
                        .whenComplete((ok, e) -> metrics.lateAnswer(
                                e == null
                                        ? DecisionMetrics.LateAnswer.REFUNDED
                                        : DecisionMetrics.LateAnswer.COUNTED_TWICE));
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

    private static Verdict verdict(
            Check c, Subject s, Limit l, Decision d, boolean degraded, boolean unavailable, Verdict.Source source) {
        return new Verdict(c.policy(), c.key(), c.tier(), c.cost(), d, degraded, unavailable, s, l, source, false);
    }

    private CompletionStage<Verdict> degrade(Check check, Subject subject, Limit limit) {
        long now = InProcessStore.systemMicros();
        long burst = limit.burst();
        return switch (check.policy().onStoreFailure()) {
            case OPEN ->
                CompletableFuture.completedFuture(verdict(
                        check,
                        subject,
                        limit,
                        new Decision(true, burst, burst, 0, 0, now),
                        true,
                        false,
                        Verdict.Source.NONE));
            case CLOSED ->
                CompletableFuture.completedFuture(verdict(
                        check,
                        subject,
                        limit,
                        new Decision(false, burst, 0, 0, 1000, now),
                        true,
                        true,
                        Verdict.Source.NONE));
            case LOCAL -> {
                Limit share = membership.share(limit);
                CompletionStage<Void> seeded = CompletableFuture.completedFuture(null);
                if (check.cost() > 0 && reconcilable(limit) && !owed.containsKey(subject)) {
                    // the subject's first local decision of this outage: start from what the store
                    // last said was left (scaled to the share), not from a full bucket
                    Long left = lastLeft.getIfPresent(subject);
                    long seed = left == null
                            ? 0
                            : share.burst()
                                    - Math.min(share.burst(), Math.max(0, left) * share.burst() / limit.burst());
                    if (owed.putIfAbsent(
                                            subject,
                                            new Owed(limit, share, seed, chargePrefix + charges.incrementAndGet()))
                                    == null
                            && seed > 0) {
                        seeded = fallback.acquire(subject, share, seed).thenApply(d -> null);
                    }
                }
                yield seeded.thenCompose(x -> fallback.acquire(subject, share, check.cost()))
                        .thenApply(decision ->
                                verdict(check, subject, share, decision, true, false, Verdict.Source.FALLBACK));
            }
        };
    }

    /** Leases are not carried over: one taken locally is released locally or expires by itself. */
    private static boolean reconcilable(Limit limit) {
        return limit.algorithm() != Algorithm.CONCURRENCY;
    }

    /**
     * Charges the store with what this node's in-process bucket of {@code subject} still counts as
     * used (its share minus what is left now, so usage that has since refilled or left its window
     * is not charged), then forgets the local bucket. When the store has less left than that, it is
     * charged what it has: the subject ends the outage with nothing left, never with a fresh bucket.
     * On failure the debt is kept for the next attempt, under the same charge id, so a charge that
     * timed out here but ran in the store is not counted again.
     */
    private CompletionStage<Void> reconcile(Subject subject, Owed debt) {
        return fallback.acquire(subject, debt.local(), 0)
                .thenCompose(look -> {
                    long used =
                            Math.min(debt.shared().burst(), debt.local().burst() - look.remaining() - debt.seeded());
                    if (used <= 0) {
                        fallback.reset(subject);
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    // each step counted once even when a time-out has it retried after it did run
                    return store.charge(subject, debt.shared(), used, debt.chargeId())
                            .thenCompose(d -> d.allowed() || d.remaining() <= 0
                                    ? CompletableFuture.completedFuture(d)
                                    : store.charge(subject, debt.shared(), d.remaining(), debt.chargeId() + ".rest"))
                            .thenAccept(d -> {
                                fallback.reset(subject);
                                // what is left after the charge: the seed of the next local episode
                                lastLeft.put(subject, d.remaining());
                                metrics.reconciled(true, used);
                            });
                })
                .whenComplete((ok, error) -> {
                    if (error != null) {
                        owed.putIfAbsent(subject, debt);
                        metrics.reconciled(false, 0);
                    }
                });
    }

    /** Charges every owed subject, a batch at a time, after the store answers again. */
    private void sweep() {
        if (owed.isEmpty() || !sweeping.compareAndSet(false, true)) {
            return;
        }
        long start = System.nanoTime();
        int subjects = owed.size();
        sweepBatch(start, subjects);
    }

    private void sweepBatch(long start, int subjects) {
        List<CompletableFuture<Void>> batch = new ArrayList<>(reconcileBatch);
        for (Subject s : owed.keySet()) {
            if (batch.size() == reconcileBatch) {
                break;
            }
            Owed debt = owed.remove(s);
            if (debt != null) {
                batch.add(reconcile(s, debt).toCompletableFuture());
            }
        }
        CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).whenComplete((ok, error) -> {
            if (error == null && !batch.isEmpty() && !owed.isEmpty() && storeHealthy.get()) {
                sweepBatch(start, subjects);
                return;
            }
            sweeping.set(false);
            boolean failedBefore = lastSweepFailed;
            lastSweepFailed = error != null;
            if (error == null) {
                LOG.info(
                        "Reconciled the local usage of {} subject(s) into the store in {} ms",
                        subjects,
                        (System.nanoTime() - start) / 1_000_000);
            } else if (!failedBefore) {
                LOG.warn(
                        "Reconciling local usage into the store stopped ({}); {} subject(s) still owed, retried"
                                + " when the store answers again",
                        error.toString(),
                        owed.size());
            }
        });
    }

    private void markStore(boolean healthy, Throwable error) {
        if (storeHealthy.compareAndSet(!healthy, healthy)) {
            metrics.storeDegraded(!healthy);
            if (healthy) {
                LOG.info(
                        "Store {} answers again: decisions are shared again; {} subject(s) decided locally to"
                                + " reconcile",
                        store.kind(),
                        owed.size());
                sweep();
            } else {
                LOG.warn(
                        "Store {} failed ({}): policies now decide by their on-store-failure mode",
                        store.kind(),
                        error.toString());
            }
        }
    }
}
