package dev.sluice.limiter;

import dev.sluice.config.OverLimitCacheProperties;
import dev.sluice.config.Policy;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.NodeClock;
import dev.sluice.core.PlanQuota;
import dev.sluice.observability.DecisionMetrics;
import dev.sluice.resilience.FailureModes;
import dev.sluice.resilience.StoreHealth;
import dev.sluice.store.PlanStore;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.ResetBroadcast;
import dev.sluice.store.StoreLoad;
import dev.sluice.store.Subject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes decisions: asks the store, and when the store fails has the policy's {@code
 * on-store-failure} mode answer ({@link FailureModes}, which also keeps the books of those answers
 * and settles them when the store is back; {@link StoreHealth} says whether it is). Records every
 * decision and store round trip.
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
    private final PlanStore plans;
    private final FailureModes modes;
    private final StoreHealth health;
    private final DecisionMetrics metrics;
    private final DecisionMetrics.StoreMeters storeMeters;
    private final NodeClock clock;

    /** Subjects known to be over their limit, answered without a store call; null when off. */
    private final OverLimitCache overLimit;

    private final ResetBroadcast resets;

    /** Told of every check answered without a store call (the store's busy rate). */
    private final StoreLoad load;

    public Limiter(
            RateLimitStore store,
            PlanStore plans,
            FailureModes modes,
            StoreHealth health,
            DecisionMetrics metrics,
            OverLimitCacheProperties cache,
            NodeClock clock,
            Optional<ResetBroadcast> resets,
            Optional<StoreLoad> load) {
        this.load = load.orElse(StoreLoad.NONE);
        this.overLimit = cache.isEnabled() ? new OverLimitCache(cache.getSize(), cache.getMaxKeep(), clock) : null;
        this.resets = resets.orElse(ResetBroadcast.NONE);
        if (overLimit != null) {
            this.resets.listen(overLimit::invalidate);
            this.resets.listenForGaps(overLimit::forgetAll);
            metrics.watchOverLimit(overLimit::size);
        }
        modes.onGivenBack(this::givenBack);
        this.store = store;
        this.plans = plans;
        this.modes = modes;
        this.health = health;
        this.metrics = metrics;
        this.storeMeters = metrics.forStore(store.kind());
        this.clock = clock;
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
        CompletionStage<Void> refunded;
        try {
            refunded = v.source() == Verdict.Source.FALLBACK
                    ? modes.refundLocal(v.subject(), v.limit(), v.cost(), v.decision())
                    : store.refund(v.subject(), v.limit(), v.cost(), v.decision());
        } catch (RuntimeException e) {
            refunded = CompletableFuture.failedFuture(e);
        }
        return refunded.handle((ok, error) -> {
            metrics.refund(error == null);
            if (error == null && v.source() != Verdict.Source.FALLBACK) {
                givenBack(v.subject());
            }
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
        PlanShape shape = null;
        long epoch = 0;
        if (overLimit != null) {
            shape = new PlanShape(limit, c.quotas().daily(), c.quotas().monthly(), c.dayId(), c.monthId());
            OverLimitCache.Kept kept = overLimit.answerWith(subject, shape, c.cost());
            if (kept != null) {
                meters.decision(false, false, false);
                metrics.overLimitHit();
                load.answeredWithoutStore();
                PlanQuota.Result r = (PlanQuota.Result) kept.extra();
                return CompletableFuture.completedFuture(planVerdicts(
                        c,
                        subject,
                        new PlanQuota.Result(
                                kept.decision(),
                                r.dayUsed(),
                                r.monthUsed(),
                                r.violated(),
                                null,
                                -1,
                                false,
                                false,
                                false)));
            }
            epoch = overLimit.epoch();
        }
        long start = clock.nanoTime();
        long epochAtStart = epoch;
        PlanShape keptShape = shape;
        CompletionStage<PlanQuota.Result> decided;
        try {
            decided = plans.acquirePlan(subject, limit, c.cost(), c.dayId(), c.monthId(), c.quotas());
        } catch (RuntimeException e) {
            decided = CompletableFuture.failedFuture(e);
        }
        return decided.thenApply(r -> {
                    storeMeters.record(true, clock.nanoTime() - start);
                    health.succeeded(subject);
                    meters.decision(r.bucket().allowed(), false, false);
                    if (overLimit != null && !r.bucket().allowed()) {
                        overLimit.keep(subject, keptShape, c.cost(), r.bucket(), r, epochAtStart, start);
                    }
                    return planVerdicts(c, subject, r);
                })
                .exceptionallyCompose(error -> {
                    storeMeters.record(false, clock.nanoTime() - start);
                    health.failed(subject, error);
                    modes.settleLate(error, c.rate().onStoreFailure(), subject, limit, c.cost());
                    Check rateOnly = new Check(c.rate(), c.account(), c.cost(), null);
                    return degrade(rateOnly, subject, limit).thenApply(v -> {
                        meters.decision(v.decision().allowed(), v.unavailable(), true);
                        return List.of(v);
                    });
                });
    }

    /**
     * What a kept denial of a check by API key answers for: the plan's rate (its override's), its
     * quotas and the day and month they count (a new day, or a changed plan or override, misses).
     */
    private record PlanShape(Limit rate, long daily, long monthly, String dayId, String monthId) {}

    private static List<Verdict> planVerdicts(PlanCheck c, Subject subject, PlanQuota.Result r) {
        boolean allowed = r.bucket().allowed();
        PlanQuota.Violation why = r.violated();
        Decision b = r.bucket();
        // a denied plan check took nothing anywhere (one script decides all three): what its other
        // limits report is their state as it is, not units taken and given back
        Verdict.Source taken = allowed ? Verdict.Source.STORE : Verdict.Source.NONE;
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
                taken,
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
                    taken,
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
                    taken,
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
            Verdict.Source taken,
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
                taken,
                !allowed && !violated);
    }

    /** Releases a {@code concurrency} lease; completes with whether it was held. */
    public CompletionStage<Boolean> release(Subject subject, String token) {
        CompletionStage<Boolean> local = modes.releaseLocal(subject, token);
        return store.release(subject, token).thenCombine(local, (shared, here) -> shared || here);
    }

    /**
     * Resets an account's plan state (the admin API): its rate bucket, and its counters of day
     * {@code dayId} and month {@code monthId}; see {@link PlanStore#resetPlan}. The rate's
     * local state (the failure mode's) is forgotten too.
     */
    public CompletionStage<long[]> resetPlan(
            String account, String dayId, String monthId, boolean rate, boolean day, boolean month) {
        Subject subject = new Subject(PLAN_RATE, account);
        if (rate) {
            modes.forget(subject);
        }
        return plans.resetPlan(subject, dayId, monthId, rate, day, month).whenComplete((done, error) -> {
            if (error == null) {
                givenBack(subject);
            }
        });
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
            modes.forget(s);
            all = all.thenCompose(x -> store.reset(s)).thenRun(() -> givenBack(s));
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
                load.answeredWithoutStore();
                return CompletableFuture.completedFuture(
                        verdict(check, subject, limit, kept, false, false, Verdict.Source.STORE));
            }
            epoch = overLimit.epoch();
        }
        long start = clock.nanoTime();
        long epochAtStart = epoch;
        CompletionStage<Decision> decided;
        try {
            CompletionStage<Void> owed = modes.chargeOwed(subject);
            decided = owed == null
                    ? acquire(policy, subject, limit, check.cost())
                    : owed.thenCompose(x -> acquire(policy, subject, limit, check.cost()));
        } catch (RuntimeException e) {
            decided = CompletableFuture.failedFuture(e);
        }
        return decided.thenApply(decision -> {
                    storeMeters.record(true, clock.nanoTime() - start);
                    health.succeeded(subject);
                    meters.decision(decision.allowed(), false, false);
                    modes.remember(policy.onStoreFailure(), subject, limit, decision);
                    // not a global policy's (multi-region): its region's demand counts every check,
                    // answered here or not, and a share that grows admits before the retry time
                    if (overLimit != null && !decision.allowed() && !policy.global()) {
                        overLimit.keep(subject, limit, check.cost(), decision, epochAtStart, start);
                    }
                    return verdict(check, subject, limit, decision, false, false, Verdict.Source.STORE);
                })
                .exceptionallyCompose(error -> {
                    storeMeters.record(false, clock.nanoTime() - start);
                    health.failed(subject, error);
                    return degrade(check, subject, limit).thenApply(verdict -> {
                        meters.decision(verdict.decision().allowed(), verdict.unavailable(), true);
                        return verdict;
                    });
                });
    }

    /**
     * After the store gave the subject units back (a reset, a refund): a denial kept of it is
     * forgotten here and on every other node.
     */
    private void givenBack(Subject s) {
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
                modes.settleLate(error, policy.onStoreFailure(), subject, limit, cost);
            }
        });
    }

    private static Verdict verdict(
            Check c, Subject s, Limit l, Decision d, boolean degraded, boolean unavailable, Verdict.Source source) {
        return new Verdict(c.policy(), c.key(), c.tier(), c.cost(), d, degraded, unavailable, s, l, source, false);
    }

    /**
     * Runs {@code check} through the path a check takes once the store has failed — its policy's
     * failure mode and the verdict — without the store and without counting it anywhere: no
     * metric, no health change, and the subject's local state and debt forgotten afterwards. For
     * the warm-up of a starting node only ({@code NodeWarmUp}), on a subject no caller uses.
     */
    public CompletionStage<Verdict> rehearseDegraded(Check check) {
        Subject subject = new Subject(check.policy().name(), check.key());
        return degrade(check, subject, check.policy().limitFor(check.tier()), false)
                .whenComplete((v, e) -> modes.forget(subject));
    }

    /** The check decided by its policy's failure mode, the store having failed. */
    private CompletionStage<Verdict> degrade(Check check, Subject subject, Limit limit) {
        return degrade(check, subject, limit, true);
    }

    /** As {@link #degrade(Check, Subject, Limit)}; {@code owes} false for a rehearsal, owing the store nothing. */
    private CompletionStage<Verdict> degrade(Check check, Subject subject, Limit limit, boolean owes) {
        return modes.decide(check.policy().onStoreFailure(), subject, limit, check.cost(), owes)
                .thenApply(a -> verdict(
                        check,
                        subject,
                        a.limit(),
                        a.decision(),
                        true,
                        a.unavailable(),
                        a.local() ? Verdict.Source.FALLBACK : Verdict.Source.NONE));
    }
}
